//! LDAP and Active Directory as a realm's read-only user directory (CONTRACT §9): the password
//! step checks a password by binding as the user the directory finds, and the user is created or
//! updated locally from the directory's entry on each such sign-in (attributes mapped to the
//! username, email address, name or local claims; group membership mapped to roles).
//!
//! Each check opens its own connection (StartTLS when asked), binds as the service account (or
//! anonymously), finds exactly one entry with the user filter, reads its groups, and then binds
//! as that entry with the password. An empty password is refused before anything is sent: LDAP
//! reads a simple bind without one as an anonymous bind, which succeeds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use crate::crypto::master_key::MasterKey;
use crate::store::directories::DirectoryRow;

pub mod users;

pub(crate) const BIND_PASSWORD_CONTEXT: &[u8] = b"tessera directory bind password";
/// LDAP result code of a bind with a wrong password or unknown DN.
const INVALID_CREDENTIALS: u32 = 49;

/// Why the directory could not answer (the password step says "directory unavailable").
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    #[error("the directory is misconfigured: {0}")]
    Misconfigured(String),
}

/// A directory as the password step uses it, read from its stored row.
#[derive(Debug, Clone)]
pub struct Directory {
    pub id: String,
    pub realm_id: String,
    pub name: String,
    pub url: String,
    pub starttls: bool,
    pub bind_dn: Option<String>,
    pub bind_password_sealed: Option<String>,
    pub tls_ca_certificate: Option<String>,
    pub user_base_dn: String,
    /// With `{username}` where the escaped username goes.
    pub user_filter: String,
    /// The attribute identifying an entry for good (`entryUUID`; AD: `objectGUID`); the DN
    /// when the entry lacks it.
    pub subject_attribute: String,
    pub attribute_mappings: BTreeMap<String, String>,
    pub group_base_dn: Option<String>,
    /// With `{dn}` (the user's escaped DN) and `{username}`.
    pub group_filter: String,
    pub group_name_attribute: String,
    /// Group name → role.
    pub group_roles: BTreeMap<String, String>,
    pub timeout: Duration,
}

impl Directory {
    /// The directory a stored row describes; `None` when its mappings are not what Tessera
    /// writes.
    pub fn from_row(row: &DirectoryRow) -> Option<Self> {
        let mapping = |value, column| crate::store::string_map(value, column).ok();
        Some(Self {
            id: row.id.clone(),
            realm_id: row.realm_id.clone(),
            name: row.name.clone(),
            url: row.url.clone(),
            starttls: row.starttls,
            bind_dn: row.bind_dn.clone(),
            bind_password_sealed: row.bind_password_sealed.clone(),
            tls_ca_certificate: row.tls_ca_certificate.clone(),
            user_base_dn: row.user_base_dn.clone(),
            user_filter: row.user_filter.clone(),
            subject_attribute: row.subject_attribute.clone(),
            attribute_mappings: mapping(&row.attribute_mappings, "directories.attribute_mappings")?,
            group_base_dn: row.group_base_dn.clone(),
            group_filter: row.group_filter.clone(),
            group_name_attribute: row.group_name_attribute.clone(),
            group_roles: mapping(&row.group_roles, "directories.group_roles")?,
            timeout: Duration::from_secs(
                u64::try_from(row.timeout_seconds).unwrap_or(5).clamp(1, 60),
            ),
        })
    }
}

/// The directory's entry of a user whose password it accepted.
#[derive(Debug, Clone)]
pub struct Found {
    pub dn: String,
    /// The value of the subject attribute (or the DN).
    pub subject: String,
    pub attrs: HashMap<String, Vec<String>>,
    /// Names of the groups the entry is a member of.
    pub groups: Vec<String>,
}

impl Found {
    /// The first value of `attribute` (names compared without regard to case).
    pub fn first(&self, attribute: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

/// What a connection check found.
#[derive(Debug, Clone)]
pub struct Reachable {
    /// Entries the user filter base holds directly (a sign of a right base DN).
    pub base_found: bool,
}

/// The certificates of a PEM text; none when it holds none or is malformed.
pub fn pem_certificates(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_default()
}

/// A TLS configuration trusting the certificates of `pem` (a private CA) and nothing else;
/// host names are verified as always.
fn tls_trusting(pem: &str) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in pem_certificates(pem) {
        roots.add(certificate).map_err(|e| {
            DirectoryError::Misconfigured(format!("the CA certificate is unusable: {e}"))
        })?;
    }
    if roots.is_empty() {
        return Err(DirectoryError::Misconfigured(
            "the CA certificate holds no certificate".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DirectoryError::Misconfigured(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The entry's stable id: its subject attribute's value, or for a binary one (Active
/// Directory's `objectGUID`) the base64url of its bytes. `None` when the entry lacks it: a DN
/// is no stable id (it is handed on to the next person of that name).
fn subject_of(directory: &Directory, entry: &SearchEntry) -> Option<String> {
    let wanted = &directory.subject_attribute;
    let binary = entry
        .bin_attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .and_then(|(_, values)| values.first())
        .map(crate::crypto::b64url);
    let text = entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .and_then(|(_, values)| values.first());
    if wanted.eq_ignore_ascii_case("objectGUID") {
        // A GUID whose bytes happen to be UTF-8 arrives as text: the same bytes either way.
        return binary.or_else(|| text.map(|t| crate::crypto::b64url(t.as_bytes())));
    }
    text.cloned()
        .filter(|t| !t.is_empty() && t.len() <= 255 && !t.contains(char::is_control))
        .or(binary)
}

/// Seals bind passwords and talks to directories.
pub struct Directories {
    master_key: Arc<MasterKey>,
}

impl std::fmt::Debug for Directories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directories(..)")
    }
}

fn unavailable(what: &str) -> impl Fn(ldap3::LdapError) -> DirectoryError + '_ {
    move |e| DirectoryError::Unavailable(format!("{what}: {e}"))
}

impl Directories {
    pub fn new(master_key: Arc<MasterKey>) -> Self {
        Self { master_key }
    }

    pub fn seal_bind_password(&self, password: &str) -> String {
        self.master_key
            .seal(password.as_bytes(), BIND_PASSWORD_CONTEXT)
    }

    fn bind_password(&self, directory: &Directory) -> Result<String, DirectoryError> {
        match &directory.bind_password_sealed {
            None => Ok(String::new()),
            Some(sealed) => self
                .master_key
                .open(sealed, BIND_PASSWORD_CONTEXT)
                .ok()
                .and_then(|p| String::from_utf8(p).ok())
                .ok_or_else(|| {
                    DirectoryError::Misconfigured("the bind password cannot be opened".into())
                }),
        }
    }

    /// A connection bound as the service account (anonymous without one).
    async fn connect(&self, directory: &Directory) -> Result<Ldap, DirectoryError> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(directory.timeout)
            .set_starttls(directory.starttls);
        if let Some(pem) = &directory.tls_ca_certificate {
            settings = settings.set_config(tls_trusting(pem)?);
        }
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, &directory.url)
            .await
            .map_err(unavailable("connecting"))?;
        tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%error, "an LDAP connection ended");
            }
        });
        if let Some(bind_dn) = &directory.bind_dn {
            let password = self.bind_password(directory)?;
            ldap.with_timeout(directory.timeout)
                .simple_bind(bind_dn, &password)
                .await
                .map_err(unavailable("binding as the service account"))?
                .success()
                .map_err(unavailable("binding as the service account"))?;
        }
        Ok(ldap)
    }

    /// Checks `password` for `username`: `Ok(None)` when the directory has no such single
    /// entry or refuses the password.
    pub async fn check_password(
        &self,
        directory: &Directory,
        username: &str,
        password: &str,
    ) -> Result<Option<Found>, DirectoryError> {
        if password.is_empty() || username.is_empty() || username.chars().any(char::is_control) {
            return Ok(None);
        }
        let mut ldap = self.connect(directory).await?;
        let found = self.find_user(&mut ldap, directory, username).await;
        let found = match found {
            Ok(Some(found)) => found,
            other => {
                let _ = ldap.unbind().await;
                return other;
            }
        };
        let bound = ldap
            .with_timeout(directory.timeout)
            .simple_bind(&found.dn, password)
            .await
            .map_err(unavailable("binding as the user"))?;
        let _ = ldap.unbind().await;
        match bound.rc {
            0 => Ok(Some(found)),
            INVALID_CREDENTIALS => Ok(None),
            rc => Err(DirectoryError::Unavailable(format!(
                "binding as the user answered {rc}: {}",
                bound.text
            ))),
        }
    }

    async fn find_user(
        &self,
        ldap: &mut Ldap,
        directory: &Directory,
        username: &str,
    ) -> Result<Option<Found>, DirectoryError> {
        let filter = directory
            .user_filter
            .replace("{username}", &ldap_escape(username));
        let mut attributes: Vec<String> = directory.attribute_mappings.keys().cloned().collect();
        attributes.push(directory.subject_attribute.clone());
        let (entries, _) = ldap
            .with_timeout(directory.timeout)
            .search(&directory.user_base_dn, Scope::Subtree, &filter, attributes)
            .await
            .map_err(unavailable("searching for the user"))?
            .success()
            .map_err(unavailable("searching for the user"))?;
        // Exactly one entry: with several it is open whose password this is.
        if entries.len() != 1 {
            return Ok(None);
        }
        let Some(entry) = entries.into_iter().next() else {
            return Ok(None);
        };
        let entry = SearchEntry::construct(entry);
        let Some(subject) = subject_of(directory, &entry) else {
            return Err(DirectoryError::Misconfigured(format!(
                "the entry has no `{}` to identify it by",
                directory.subject_attribute
            )));
        };
        // Groups are looked up under the entry's own name, never under what was typed (a
        // filter matching several attributes would find someone else's groups).
        let own_name = directory
            .attribute_mappings
            .iter()
            .find(|(_, target)| target.as_str() == crate::claim_mapping::USERNAME)
            .and_then(|(attribute, _)| {
                entry
                    .attrs
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
                    .and_then(|(_, values)| values.first().cloned())
            })
            .unwrap_or_else(|| username.to_string());
        let groups = self
            .groups_of(ldap, directory, &entry.dn, &own_name)
            .await?;
        Ok(Some(Found {
            dn: entry.dn,
            subject,
            attrs: entry.attrs,
            groups,
        }))
    }

    async fn groups_of(
        &self,
        ldap: &mut Ldap,
        directory: &Directory,
        dn: &str,
        username: &str,
    ) -> Result<Vec<String>, DirectoryError> {
        let Some(base) = &directory.group_base_dn else {
            return Ok(Vec::new());
        };
        let filter = directory
            .group_filter
            .replace("{dn}", &ldap_escape(dn))
            .replace("{username}", &ldap_escape(username));
        let (entries, _) = ldap
            .with_timeout(directory.timeout)
            .search(
                base,
                Scope::Subtree,
                &filter,
                vec![directory.group_name_attribute.clone()],
            )
            .await
            .map_err(unavailable("searching for groups"))?
            .success()
            .map_err(unavailable("searching for groups"))?;
        Ok(entries
            .into_iter()
            .map(SearchEntry::construct)
            .filter_map(|entry| {
                entry
                    .attrs
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&directory.group_name_attribute))
                    .and_then(|(_, v)| v.first().cloned())
            })
            .collect())
    }

    /// Connects, binds as the service account and reads the user base: the admin's "test
    /// connection".
    pub async fn check(&self, directory: &Directory) -> Result<Reachable, DirectoryError> {
        let mut ldap = self.connect(directory).await?;
        let searched = ldap
            .with_timeout(directory.timeout)
            .search(
                &directory.user_base_dn,
                Scope::Base,
                "(objectClass=*)",
                vec!["1.1"],
            )
            .await
            .map_err(unavailable("reading the user base"))?;
        let _ = ldap.unbind().await;
        Ok(Reachable {
            base_found: searched.1.rc == 0 && !searched.0.is_empty(),
        })
    }
}
