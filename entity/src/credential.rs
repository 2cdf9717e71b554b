//! A user's credentials besides the password: TOTP secrets (sealed with the master key) and
//! recovery codes (hashed), later passkeys.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub user_id: String,
    /// `totp`, `recovery_code` or `passkey`.
    pub kind: String,
    pub label: Option<String>,
    /// What finds the credential at sign-in: a passkey's credential id (base64url).
    pub lookup_key: Option<String>,
    /// A TOTP secret sealed with the master key, a recovery code's hash, or a passkey (its public
    /// key and counter, as JSON).
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    /// False for a TOTP secret shown for enrolment and not yet confirmed with a code.
    pub confirmed: bool,
    /// The last TOTP time step accepted: a code is accepted once (RFC 6238 §5.2).
    pub last_used_step: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::realm::Entity",
        from = "Column::RealmId",
        to = "super::realm::Column::Id",
        on_delete = "Cascade"
    )]
    Realm,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
