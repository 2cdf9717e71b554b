//! Where a sign-in session comes from (the peer address and the browser's user agent, shown to
//! admins and to the user), and composite roles: a role may include other roles of its realm.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [Sessions::IpAddress, Sessions::UserAgent] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RoleComposites::Table)
                    .col(ColumnDef::new(RoleComposites::RoleId).string().not_null())
                    .col(ColumnDef::new(RoleComposites::ChildId).string().not_null())
                    .primary_key(
                        Index::create()
                            .col(RoleComposites::RoleId)
                            .col(RoleComposites::ChildId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_composites_role")
                            .from(RoleComposites::Table, RoleComposites::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_composites_child")
                            .from(RoleComposites::Table, RoleComposites::ChildId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_role_composites_child_id")
                    .table(RoleComposites::Table)
                    .col(RoleComposites::ChildId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoleComposites::Table).to_owned())
            .await?;
        for column in [Sessions::UserAgent, Sessions::IpAddress] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    IpAddress,
    UserAgent,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RoleComposites {
    Table,
    RoleId,
    ChildId,
}
