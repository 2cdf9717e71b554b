//! Passkeys (WebAuthn, through `webauthn-rs`): registered from the account console, used to sign
//! in without a username (discoverable credentials, user verification required). The relying
//! party is the host of `TESSERA_PUBLIC_URL`; each credential belongs to one account of one
//! realm. The library checks signatures, origins, challenges and counters (a counter that goes
//! backwards is refused as a possible clone); the challenge state lives in the browser session
//! and is used once.

use chrono::{DateTime, Utc};
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, DiscoverableAuthentication, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn, WebauthnBuilder,
};

use super::{audit, FactorError, SecondFactors};
use crate::crypto::b64url;
use crate::store::credentials::{self, kind, NewCredential, StoredCredential};
use crate::store::users::StoredUser;
use crate::store::{self, StoreError};

/// The longest name a user may give a passkey.
pub const MAX_NAME: usize = 64;

/// Who signed in with a passkey, and how (for `amr`).
#[derive(Debug, Clone)]
pub struct PasskeySignIn {
    pub user: StoredUser,
    /// The key may be synced between devices (backup eligible): a software key (`swk`), else a
    /// hardware-bound one (`hwk`).
    pub synced: bool,
}

/// The relying party of this server for a realm named `rp_name`.
pub fn relying_party(public_url: &str, rp_name: &str) -> Result<Webauthn, FactorError> {
    let origin = Url::parse(public_url).map_err(|e| FactorError::Passkey(e.to_string()))?;
    let rp_id = origin
        .host_str()
        .ok_or_else(|| FactorError::Passkey("the public URL has no host".into()))?
        .to_string();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name(rp_name).build())
        .map_err(|e| FactorError::Passkey(format!("passkeys need a domain name: {e}")))
}

fn user_handle(user: &StoredUser) -> Result<Uuid, FactorError> {
    Uuid::parse_str(&user.id).map_err(|e| FactorError::Passkey(e.to_string()))
}

fn stored_passkey(credential: &StoredCredential) -> Result<Passkey, FactorError> {
    serde_json::from_str(&credential.secret).map_err(|e| FactorError::Passkey(e.to_string()))
}

impl SecondFactors {
    /// Options for the browser to create a passkey for `user`, and the state to keep for
    /// [`SecondFactors::finish_passkey_registration`]. The user's passkeys are excluded (no
    /// duplicates on one authenticator), and a discoverable credential is asked for so the
    /// passkey can sign in without a username.
    pub async fn start_passkey_registration(
        &self,
        webauthn: &Webauthn,
        user: &StoredUser,
    ) -> Result<(serde_json::Value, PasskeyRegistration), FactorError> {
        let existing = credentials::of_kind(&self.store.db, &user.id, kind::PASSKEY).await?;
        let exclude = existing
            .iter()
            .filter_map(|c| stored_passkey(c).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let display = user
            .claims
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or(&user.username)
            .to_string();
        let (options, state): (CreationChallengeResponse, _) = webauthn
            .start_passkey_registration(
                user_handle(user)?,
                &user.username,
                &display,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| FactorError::Passkey(e.to_string()))?;
        let mut options =
            serde_json::to_value(options).map_err(|e| FactorError::Passkey(e.to_string()))?;
        // A discoverable credential, so the passkey signs in without a username. (The library
        // discourages resident keys for security keys with little storage; passkeys are the
        // point here.) Verification accepts either kind.
        if let Some(selection) = options
            .get_mut("publicKey")
            .and_then(|p| p.get_mut("authenticatorSelection"))
            .and_then(|s| s.as_object_mut())
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        Ok((options, state))
    }

    /// Verifies the browser's answer and stores the passkey under `name`. `Ok(Err(why))` when
    /// the answer does not verify (nothing is stored).
    pub async fn finish_passkey_registration(
        &self,
        webauthn: &Webauthn,
        user: &StoredUser,
        name: &str,
        answer: &RegisterPublicKeyCredential,
        state: &PasskeyRegistration,
        now: DateTime<Utc>,
    ) -> Result<Result<StoredCredential, String>, FactorError> {
        let passkey = match webauthn.finish_passkey_registration(answer, state) {
            Ok(passkey) => passkey,
            Err(e) => return Ok(Err(format!("the passkey did not verify ({e})"))),
        };
        let secret =
            serde_json::to_string(&passkey).map_err(|e| FactorError::Passkey(e.to_string()))?;
        let tx = self.store.begin().await?;
        let inserted = credentials::insert(
            &tx,
            NewCredential {
                id: crate::crypto::random::id(),
                realm_id: &user.realm_id,
                user_id: &user.id,
                kind: kind::PASSKEY,
                label: Some(name.to_string()),
                lookup_key: Some(b64url(AsRef::<[u8]>::as_ref(passkey.cred_id()))),
                secret,
                confirmed: true,
                last_used_step: None,
            },
            now,
        )
        .await;
        let credential = match inserted {
            Ok(credential) => credential,
            // The same authenticator credential registered again (here or for another account).
            Err(StoreError::Conflict(_)) => {
                return Ok(Err("this passkey is already registered".into()))
            }
            Err(e) => return Err(e.into()),
        };
        audit(
            &tx,
            user,
            &user.id,
            "user.passkey_registered",
            serde_json::json!({"credential": credential.id, "name": name}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(credential))
    }

    /// Options for a sign-in with any passkey of the realm (no username: the authenticator
    /// offers its discoverable credentials), and the state to keep.
    pub fn start_passkey_sign_in(
        &self,
        webauthn: &Webauthn,
    ) -> Result<(RequestChallengeResponse, DiscoverableAuthentication), FactorError> {
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| FactorError::Passkey(e.to_string()))?;
        // The page asks on a button press, not through autofill (conditional mediation).
        options.mediation = None;
        Ok((options, state))
    }

    /// Verifies a passkey sign-in in realm `realm_id`: the credential must be a passkey of this
    /// realm whose user handle names its account, and the account enabled and not locked.
    /// `Ok(Err(why))` when it does not verify; nothing changes then.
    pub async fn finish_passkey_sign_in(
        &self,
        webauthn: &Webauthn,
        realm_id: &str,
        answer: &PublicKeyCredential,
        state: DiscoverableAuthentication,
        now: DateTime<Utc>,
    ) -> Result<Result<PasskeySignIn, String>, FactorError> {
        let refused = |why: &str| Ok(Err(why.to_string()));
        let Ok((handle, credential_id)) = webauthn.identify_discoverable_authentication(answer)
        else {
            return refused("the answer names no account");
        };
        let db = &self.store.db;
        let Some(credential) =
            credentials::by_lookup_key(db, realm_id, &b64url(credential_id)).await?
        else {
            return refused("the passkey is not registered in this realm");
        };
        if credential.kind != kind::PASSKEY || credential.user_id != handle.to_string() {
            return refused("the passkey belongs to another account");
        }
        let Some(user) = store::users::find(db, &credential.user_id).await? else {
            return refused("the account is gone");
        };
        if !user.enabled || user.locked_until.is_some_and(|until| until > now) {
            return refused("the account is disabled or locked");
        }
        let mut passkey = stored_passkey(&credential)?;
        let result: AuthenticationResult =
            match webauthn.finish_discoverable_authentication_v2(answer, state, &passkey) {
                Ok(result) => result,
                Err(e) => return Ok(Err(format!("the passkey did not verify ({e})"))),
            };
        if !result.user_verified() {
            return refused("the authenticator did not verify the user");
        }
        let updated = match passkey.update_credential(&result) {
            Some(true) => Some(
                serde_json::to_string(&passkey).map_err(|e| FactorError::Passkey(e.to_string()))?,
            ),
            _ => None,
        };
        credentials::record_passkey_use(db, &credential.id, updated, now).await?;
        Ok(Ok(PasskeySignIn {
            synced: result.backup_eligible(),
            user,
        }))
    }

    /// Options for the signed-in `user` to give one of their passkeys as a second factor.
    pub async fn start_passkey_second_factor(
        &self,
        webauthn: &Webauthn,
        user: &StoredUser,
    ) -> Result<(RequestChallengeResponse, PasskeyAuthentication), FactorError> {
        let passkeys = credentials::of_kind(&self.store.db, &user.id, kind::PASSKEY)
            .await?
            .iter()
            .map(stored_passkey)
            .collect::<Result<Vec<_>, _>>()?;
        webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| FactorError::Passkey(e.to_string()))
    }

    /// Verifies a passkey given as `user`'s second factor. `Ok(Ok(synced))` when it verified
    /// (the counter is kept), `Ok(Err(why))` when not.
    pub async fn finish_passkey_second_factor(
        &self,
        webauthn: &Webauthn,
        user: &StoredUser,
        answer: &PublicKeyCredential,
        state: &PasskeyAuthentication,
        now: DateTime<Utc>,
    ) -> Result<Result<bool, String>, FactorError> {
        let result = match webauthn.finish_passkey_authentication(answer, state) {
            Ok(result) => result,
            Err(e) => return Ok(Err(format!("the passkey did not verify ({e})"))),
        };
        let db = &self.store.db;
        let key = b64url(AsRef::<[u8]>::as_ref(result.cred_id()));
        let Some(credential) = credentials::by_lookup_key(db, &user.realm_id, &key).await? else {
            return Ok(Err("the passkey is not registered".into()));
        };
        if credential.user_id != user.id {
            return Ok(Err("the passkey belongs to another account".into()));
        }
        let mut passkey = stored_passkey(&credential)?;
        let updated = match passkey.update_credential(&result) {
            Some(true) => Some(
                serde_json::to_string(&passkey).map_err(|e| FactorError::Passkey(e.to_string()))?,
            ),
            _ => None,
        };
        credentials::record_passkey_use(db, &credential.id, updated, now).await?;
        Ok(Ok(result.backup_eligible()))
    }

    /// Renames one of the user's passkeys (`name` already checked); whether it was theirs.
    pub async fn rename_passkey(
        &self,
        user: &StoredUser,
        id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, FactorError> {
        let owned = credentials::of_kind(&self.store.db, &user.id, kind::PASSKEY)
            .await?
            .iter()
            .any(|c| c.id == id);
        if !owned {
            return Ok(false);
        }
        let tx = self.store.begin().await?;
        credentials::rename(&tx, &user.id, id, name).await?;
        audit(
            &tx,
            user,
            &user.id,
            "user.passkey_renamed",
            serde_json::json!({"credential": id, "name": name}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether `name` may name a passkey: 1 to 64 characters, no control characters.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty() && name.chars().count() <= MAX_NAME && !name.chars().any(char::is_control)
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: &str) -> Result<Vec<StoredCredential>, FactorError> {
        Ok(credentials::of_kind(&self.store.db, user_id, kind::PASSKEY).await?)
    }
}
