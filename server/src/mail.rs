//! Sending mail through a realm's SMTP server (`lettre`): the settings as the domain sees them
//! (the password opened from its sealed form only to send), and one message at a time. Sends
//! run on their own task, so how long an answer takes never tells whether a mail was sent.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::crypto::master_key::MasterKey;
use crate::store::mail::StoredSmtp;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::StartTls => "starttls",
            Security::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }
}

/// Whether `text` is a sender lettre accepts: `address` or `Name <address>`.
pub fn is_sender(text: &str) -> bool {
    text.trim().parse::<Mailbox>().is_ok()
}

/// The context a realm's SMTP password is sealed under.
pub fn password_context(realm_id: &str) -> Vec<u8> {
    format!("smtp:{realm_id}").into_bytes()
}

/// A message to one address.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail settings are not usable: {0}")]
    Settings(String),
    #[error("sending failed: {0}")]
    Send(String),
}

/// Sends mail with the realm settings it is given.
#[derive(Clone)]
pub struct Mailer {
    master_key: Arc<MasterKey>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

/// How long a send may take before it is given up.
const TIMEOUT: Duration = Duration::from_secs(15);

impl Mailer {
    pub fn new(master_key: Arc<MasterKey>) -> Self {
        Self { master_key }
    }

    /// Seals an SMTP password for storage.
    pub fn seal_password(&self, realm_id: &str, password: &str) -> String {
        self.master_key
            .seal(password.as_bytes(), &password_context(realm_id))
    }

    /// An SMTP password sealed for realm `from`, sealed again for realm `to` (a realm document
    /// imported into a realm of another id); `None` when this master key cannot open it.
    pub fn reseal_password(&self, sealed: &str, from: &str, to: &str) -> Option<String> {
        let password = self.master_key.open(sealed, &password_context(from)).ok()?;
        Some(self.master_key.seal(&password, &password_context(to)))
    }

    /// Whether two sealed SMTP passwords (of realms `a_realm` and `b_realm`) are the same
    /// password.
    pub fn same_password(&self, a: &str, a_realm: &str, b: &str, b_realm: &str) -> bool {
        let open = |sealed, realm| self.master_key.open(sealed, &password_context(realm)).ok();
        match (open(a, a_realm), open(b, b_realm)) {
            (Some(a), Some(b)) => crate::crypto::constant_time_eq(&a, &b),
            _ => false,
        }
    }

    /// Sends `mail` through `settings` and waits for the server's answer.
    pub async fn send(&self, settings: &StoredSmtp, mail: &Mail) -> Result<(), MailError> {
        let settings_error = |e: &dyn std::fmt::Display| MailError::Settings(e.to_string());
        let from: Mailbox = settings
            .from_address
            .parse()
            .map_err(|e| settings_error(&e))?;
        let to: Mailbox = mail.to.parse().map_err(|e| settings_error(&e))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| settings_error(&e))?;
        let port = u16::try_from(settings.port).map_err(|e| settings_error(&e))?;
        let security = Security::parse(&settings.security)
            .ok_or_else(|| MailError::Settings(format!("security `{}`", settings.security)))?;
        let tls = || TlsParameters::new(settings.host.clone()).map_err(|e| settings_error(&e));
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(port)
            .timeout(Some(TIMEOUT))
            .tls(match security {
                Security::None => Tls::None,
                Security::StartTls => Tls::Required(tls()?),
                Security::Tls => Tls::Wrapper(tls()?),
            });
        if let Some(username) = &settings.username {
            let password = match &settings.password_sealed {
                Some(sealed) => {
                    let plain = self
                        .master_key
                        .open(sealed, &password_context(&settings.realm_id))
                        .map_err(|e| settings_error(&e))?;
                    String::from_utf8(plain).map_err(|e| settings_error(&e))?
                }
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        builder
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Send(e.to_string()))
    }
}
