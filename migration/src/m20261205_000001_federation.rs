//! Federation: a realm's upstream identity providers (OpenID Connect or plain OAuth 2), the
//! links from an upstream account (provider + upstream subject) to a local user, and the
//! pending redirects to an upstream (its `state`, stored hashed, with what the callback needs).
//! Sessions and authorization codes remember which provider a sign-in came through (`idp`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

fn optional(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().null().to_owned()
}

fn flag(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).boolean().not_null().to_owned()
}

fn moment(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityProviders::Table)
                    .col(text(IdentityProviders::Id).primary_key())
                    .col(text(IdentityProviders::RealmId))
                    .col(text(IdentityProviders::Alias))
                    .col(text(IdentityProviders::Kind))
                    .col(text(IdentityProviders::DisplayName))
                    .col(flag(IdentityProviders::Enabled))
                    .col(optional(IdentityProviders::Template))
                    .col(optional(IdentityProviders::Issuer))
                    .col(optional(IdentityProviders::AuthorizationEndpoint))
                    .col(optional(IdentityProviders::TokenEndpoint))
                    .col(optional(IdentityProviders::UserinfoEndpoint))
                    .col(optional(IdentityProviders::JwksUri))
                    .col(text(IdentityProviders::ClientId))
                    .col(
                        ColumnDef::new(IdentityProviders::ClientSecretSealed)
                            .text()
                            .null(),
                    )
                    .col(text(IdentityProviders::ClientAuthMethod))
                    .col(text(IdentityProviders::Scopes))
                    .col(flag(IdentityProviders::Pkce))
                    .col(text(IdentityProviders::SubjectClaim))
                    .col(
                        ColumnDef::new(IdentityProviders::ClaimMappings)
                            .json_binary()
                            .not_null(),
                    )
                    .col(text(IdentityProviders::SyncMode))
                    .col(flag(IdentityProviders::LinkByVerifiedEmail))
                    .col(flag(IdentityProviders::CreateUsers))
                    .col(moment(IdentityProviders::CreatedAt))
                    .col(moment(IdentityProviders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identity_providers_realm")
                            .from(IdentityProviders::Table, IdentityProviders::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_identity_providers_realm_alias")
                    .table(IdentityProviders::Table)
                    .col(IdentityProviders::RealmId)
                    .col(IdentityProviders::Alias)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FederatedIdentities::Table)
                    .col(text(FederatedIdentities::Id).primary_key())
                    .col(text(FederatedIdentities::RealmId))
                    .col(text(FederatedIdentities::ProviderId))
                    .col(text(FederatedIdentities::UserId))
                    .col(text(FederatedIdentities::Subject))
                    .col(optional(FederatedIdentities::UpstreamUsername))
                    .col(moment(FederatedIdentities::CreatedAt))
                    .col(moment(FederatedIdentities::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_federated_identities_realm")
                            .from(FederatedIdentities::Table, FederatedIdentities::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_federated_identities_provider")
                            .from(FederatedIdentities::Table, FederatedIdentities::ProviderId)
                            .to(IdentityProviders::Table, IdentityProviders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_federated_identities_user")
                            .from(FederatedIdentities::Table, FederatedIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One link per upstream account, and one upstream account per user and provider.
        manager
            .create_index(
                Index::create()
                    .name("ux_federated_identities_provider_subject")
                    .table(FederatedIdentities::Table)
                    .col(FederatedIdentities::ProviderId)
                    .col(FederatedIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_federated_identities_provider_user")
                    .table(FederatedIdentities::Table)
                    .col(FederatedIdentities::ProviderId)
                    .col(FederatedIdentities::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federated_identities_user")
                    .table(FederatedIdentities::Table)
                    .col(FederatedIdentities::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BrokerLogins::Table)
                    .col(text(BrokerLogins::Id).primary_key())
                    .col(text(BrokerLogins::RealmId))
                    .col(text(BrokerLogins::ProviderId))
                    .col(text(BrokerLogins::InteractionId))
                    .col(ColumnDef::new(BrokerLogins::Sealed).text().not_null())
                    .col(moment(BrokerLogins::CreatedAt))
                    .col(moment(BrokerLogins::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_broker_logins_realm")
                            .from(BrokerLogins::Table, BrokerLogins::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_broker_logins_provider")
                            .from(BrokerLogins::Table, BrokerLogins::ProviderId)
                            .to(IdentityProviders::Table, IdentityProviders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_broker_logins_expires_at")
                    .table(BrokerLogins::Table)
                    .col(BrokerLogins::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(optional(Sessions::Idp))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .add_column(optional(AuthorizationCodes::Idp))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .drop_column(AuthorizationCodes::Idp)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::Idp)
                    .to_owned(),
            )
            .await?;
        for table in [
            BrokerLogins::Table.into_iden(),
            FederatedIdentities::Table.into_iden(),
            IdentityProviders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    RealmId,
    Alias,
    Kind,
    DisplayName,
    Enabled,
    Template,
    Issuer,
    AuthorizationEndpoint,
    TokenEndpoint,
    UserinfoEndpoint,
    JwksUri,
    ClientId,
    ClientSecretSealed,
    ClientAuthMethod,
    Scopes,
    Pkce,
    SubjectClaim,
    ClaimMappings,
    SyncMode,
    LinkByVerifiedEmail,
    CreateUsers,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FederatedIdentities {
    Table,
    Id,
    RealmId,
    ProviderId,
    UserId,
    Subject,
    UpstreamUsername,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum BrokerLogins {
    Table,
    Id,
    RealmId,
    ProviderId,
    InteractionId,
    Sealed,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Idp,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Idp,
}
