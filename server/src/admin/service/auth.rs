//! Who may administer: users of realm `master` holding the role `admin`, and service clients
//! of realm `master` holding it. The role is checked against the database on every request,
//! so disabling an administrator or taking the role away takes effect at once.

use admin_model::{Actor, AdminAuth, AdminError, AdminResult};
use async_trait::async_trait;

use super::AdminService;
use crate::accounts::LoginFailure;
use crate::factors::Verdict;
use crate::seeding::{ADMIN_ROLE, MASTER_REALM};
use crate::state::RealmCtx;
use crate::store;

impl AdminService {
    async fn master(&self) -> AdminResult<RealmCtx> {
        let realm = self
            .state
            .caches
            .directory
            .realm(MASTER_REALM)
            .await?
            .ok_or(AdminError::Internal)?;
        Ok(RealmCtx {
            issuer: self.state.issuer(&realm.name),
            realm,
        })
    }

    /// The administrator with subject `subject`, if it (still) is one.
    async fn admin_by_subject(
        &self,
        master: &RealmCtx,
        subject: &str,
    ) -> AdminResult<Option<Actor>> {
        // The admin role may be held through a composite role.
        let catalog = self
            .state
            .caches
            .directory
            .catalog(&master.realm.id)
            .await?;
        if let Some(user) = store::users::find(self.db(), subject).await? {
            if user.realm_id != master.realm.id || !user.enabled {
                return Ok(None);
            }
            let roles = store::users::role_names(self.db(), &user.id).await?;
            let roles = catalog.effective_roles(&roles);
            return Ok(roles.iter().any(|r| r == ADMIN_ROLE).then_some(Actor {
                subject: user.id,
                name: user.username,
            }));
        }
        // A service client's token has the client as its subject.
        let client = store::clients::find(self.db(), &master.realm.id, subject).await?;
        Ok(client
            .filter(|c| {
                c.enabled
                    && catalog
                        .effective_roles(&c.roles)
                        .iter()
                        .any(|r| r == ADMIN_ROLE)
            })
            .map(|c| Actor {
                subject: c.client_id.clone(),
                name: c.client_id,
            }))
    }
}

#[async_trait]
impl AdminAuth for AdminService {
    async fn authenticate_token(&self, token: &str) -> AdminResult<Actor> {
        let master = self.master().await?;
        let verified = crate::oauth::introspect::active_access_token(&self.state, &master, token)
            .await
            .map_err(|e| super::internal(e.description))?
            .ok_or_else(|| {
                AdminError::Unauthorized(
                    "the bearer token is not a valid, unexpired access token of realm master"
                        .into(),
                )
            })?;
        let subject = verified.str_claim("sub").unwrap_or_default().to_string();
        self.admin_by_subject(&master, &subject)
            .await?
            .ok_or_else(|| {
                AdminError::Forbidden("the token's subject does not hold the admin role".into())
            })
    }

    async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
    ) -> AdminResult<Actor> {
        let master = self.master().await?;
        let outcome = self
            .state
            .accounts
            .authenticate(&master.realm.id, username, password, self.state.now())
            .await
            .map_err(super::internal)?;
        let user = match outcome {
            Ok(user) => user,
            Err(LoginFailure::Locked) => {
                return Err(AdminError::Unauthorized(
                    "too many failed attempts; the account is locked for a while".into(),
                ))
            }
            Err(_) => {
                return Err(AdminError::Unauthorized(
                    "wrong username or password".into(),
                ))
            }
        };
        // The console is the widest power there is: it asks for the second factor the
        // realm's policy asks of this user, as the login pages and the password grant do.
        let now = self.state.now();
        let factors = &self.state.factors;
        if factors
            .required_by_realm(&master.realm, &user.id)
            .await
            .map_err(super::internal)?
        {
            let verdict = match code.map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => factors
                    .verify(&self.state.accounts, &user, code, now)
                    .await
                    .map_err(super::internal)?,
                None => Verdict::Wrong,
            };
            if !matches!(verdict, Verdict::Totp | Verdict::RecoveryCode) {
                return Err(AdminError::Unauthorized(
                    "wrong username, password or authentication code".into(),
                ));
            }
        }
        let actor = self
            .admin_by_subject(&master, &user.id)
            .await?
            .ok_or_else(|| {
                AdminError::Forbidden("this account does not hold the admin role".into())
            })?;
        // A console session is the widest power there is; its start belongs in the trail.
        // Refusals are not recorded one by one: the lock they lead to is (`user.locked`).
        self.audit(
            self.db(),
            &master.realm.id,
            &actor,
            "admin.signed_in",
            &actor.subject,
            serde_json::json!({"via": "console"}),
        )
        .await?;
        Ok(actor)
    }

    async fn still_admin(&self, actor: &Actor) -> AdminResult<bool> {
        let master = self.master().await?;
        Ok(self
            .admin_by_subject(&master, &actor.subject)
            .await?
            .is_some())
    }
}
