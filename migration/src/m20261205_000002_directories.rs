//! LDAP / Active Directory as read-only user directories of a realm, and the links from a
//! directory entry (its stable id) to the local user made from it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

fn optional(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().null().to_owned()
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
                    .table(Directories::Table)
                    .col(text(Directories::Id).primary_key())
                    .col(text(Directories::RealmId))
                    .col(text(Directories::Name))
                    .col(ColumnDef::new(Directories::Enabled).boolean().not_null())
                    .col(text(Directories::Url))
                    .col(ColumnDef::new(Directories::Starttls).boolean().not_null())
                    .col(optional(Directories::BindDn))
                    .col(
                        ColumnDef::new(Directories::BindPasswordSealed)
                            .text()
                            .null(),
                    )
                    .col(ColumnDef::new(Directories::TlsCaCertificate).text().null())
                    .col(text(Directories::UserBaseDn))
                    .col(text(Directories::UserFilter))
                    .col(text(Directories::SubjectAttribute))
                    .col(
                        ColumnDef::new(Directories::AttributeMappings)
                            .json_binary()
                            .not_null(),
                    )
                    .col(optional(Directories::GroupBaseDn))
                    .col(text(Directories::GroupFilter))
                    .col(text(Directories::GroupNameAttribute))
                    .col(
                        ColumnDef::new(Directories::GroupRoles)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Directories::TimeoutSeconds)
                            .integer()
                            .not_null(),
                    )
                    .col(moment(Directories::CreatedAt))
                    .col(moment(Directories::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_directories_realm")
                            .from(Directories::Table, Directories::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_directories_realm_name")
                    .table(Directories::Table)
                    .col(Directories::RealmId)
                    .col(Directories::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DirectoryLinks::Table)
                    .col(text(DirectoryLinks::Id).primary_key())
                    .col(text(DirectoryLinks::RealmId))
                    .col(text(DirectoryLinks::DirectoryId))
                    .col(text(DirectoryLinks::UserId))
                    .col(text(DirectoryLinks::Subject))
                    .col(ColumnDef::new(DirectoryLinks::Dn).text().not_null())
                    .col(moment(DirectoryLinks::CreatedAt))
                    .col(moment(DirectoryLinks::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_directory_links_realm")
                            .from(DirectoryLinks::Table, DirectoryLinks::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_directory_links_directory")
                            .from(DirectoryLinks::Table, DirectoryLinks::DirectoryId)
                            .to(Directories::Table, Directories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_directory_links_user")
                            .from(DirectoryLinks::Table, DirectoryLinks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ux_directory_links_directory_subject",
                [DirectoryLinks::DirectoryId, DirectoryLinks::Subject],
            ),
            (
                "ux_directory_links_directory_user",
                [DirectoryLinks::DirectoryId, DirectoryLinks::UserId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(DirectoryLinks::Table).unique();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_directory_links_user")
                    .table(DirectoryLinks::Table)
                    .col(DirectoryLinks::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DirectoryLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Directories::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Directories {
    Table,
    Id,
    RealmId,
    Name,
    Enabled,
    Url,
    Starttls,
    BindDn,
    BindPasswordSealed,
    TlsCaCertificate,
    UserBaseDn,
    UserFilter,
    SubjectAttribute,
    AttributeMappings,
    GroupBaseDn,
    GroupFilter,
    GroupNameAttribute,
    GroupRoles,
    TimeoutSeconds,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DirectoryLinks {
    Table,
    Id,
    RealmId,
    DirectoryId,
    UserId,
    Subject,
    Dn,
    CreatedAt,
    LastLoginAt,
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
