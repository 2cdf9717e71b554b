//! The server's own key material, kept sealed: after a master key rotation, the root from
//! which hashing and refresh-token keys are derived, sealed with the new master key (so what
//! was issued before the rotation keeps verifying). Absent until the first rotation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyState::Table)
                    .col(
                        ColumnDef::new(KeyState::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(KeyState::Sealed).text().not_null())
                    .col(
                        ColumnDef::new(KeyState::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeyState::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum KeyState {
    Table,
    Name,
    Sealed,
    UpdatedAt,
}
