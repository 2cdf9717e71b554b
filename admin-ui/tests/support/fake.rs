//! An in-memory `AdminPort` with just enough rules to exercise the console's pages.

use std::collections::BTreeMap;
use std::sync::Mutex;

use admin_model::*;
use async_trait::async_trait;
use chrono::Utc;

#[derive(Default)]
pub struct State {
    pub realms: BTreeMap<String, RealmView>,
    pub clients: BTreeMap<(String, String), ClientView>,
    pub users: BTreeMap<(String, String), UserView>,
    pub scopes: BTreeMap<(String, String), ScopeView>,
    pub resources: BTreeMap<(String, String), ApiResourceView>,
    pub claim_types: BTreeMap<(String, String), ClaimTypeView>,
    pub policies: BTreeMap<(String, String), ExchangePolicyView>,
    pub keys: BTreeMap<String, Vec<KeyView>>,
    pub revocations: BTreeMap<(String, String), RevocationView>,
    pub sessions: BTreeMap<(String, String), SessionView>,
    pub events: Vec<(String, EventView)>,
    pub admin_enabled: bool,
    pub next_id: u64,
}

pub struct FakePort {
    pub state: Mutex<State>,
}

fn now() -> Timestamp {
    Utc::now()
}

fn realm_view(name: &str) -> RealmView {
    RealmView {
        name: name.into(),
        display_name: None,
        enabled: true,
        decentralized: false,
        issuer: format!("http://127.0.0.1:7799/realms/{name}"),
        signing_alg: "ES256".into(),
        id_token_signing_alg: "RS256".into(),
        cookie_mode: "realm".into(),
        access_token_lifetime: None,
        refresh_token_lifetime: None,
        refresh_token_sliding_lifetime: None,
        id_token_lifetime: None,
        code_lifetime: None,
        device_code_lifetime: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn key_view(kid: &str, active: bool) -> KeyView {
    KeyView {
        kid: kid.into(),
        alg: "ES256".into(),
        active,
        created_at: now(),
        retired_at: None,
        publish_until: None,
    }
}

impl FakePort {
    pub fn new() -> Self {
        let mut state = State {
            admin_enabled: true,
            ..State::default()
        };
        for name in ["master", "default"] {
            state.realms.insert(name.into(), realm_view(name));
            state
                .keys
                .insert(name.into(), vec![key_view(&format!("{name}-k1"), true)]);
            state.scopes.insert(
                (name.into(), "openid".into()),
                ScopeView {
                    name: "openid".into(),
                    description: Some("Sign-in".into()),
                    claims: vec!["sub".into()],
                    audience: None,
                    include_in_access_token: false,
                    created_at: now(),
                    updated_at: now(),
                },
            );
        }
        state.sessions.insert(
            ("default".into(), "sess-1".into()),
            SessionView {
                id: "sess-1".into(),
                user_id: "u-1".into(),
                username: Some("alice".into()),
                client_ids: vec!["web".into()],
                auth_time: now(),
                created_at: now(),
                last_seen_at: now(),
                expires_at: now(),
            },
        );
        Self {
            state: Mutex::new(state),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap();
        f(&mut state)
    }
}

fn page<T: Clone>(items: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = page.limit.unwrap_or(50) as usize;
    let start: Vec<T> = items
        .into_iter()
        .filter(|i| page.cursor.as_ref().is_none_or(|c| key(i) > *c))
        .collect();
    let next_cursor = (start.len() > limit).then(|| key(&start[limit - 1]));
    Page {
        items: start.into_iter().take(limit).collect(),
        next_cursor,
    }
}

fn realm_items<T: Clone>(map: &BTreeMap<(String, String), T>, realm: &str) -> Vec<T> {
    map.iter()
        .filter(|((r, _), _)| r == realm)
        .map(|(_, v)| v.clone())
        .collect()
}

fn event(state: &mut State, realm: &str, actor: &Actor, kind: &str, target: &str) {
    state.next_id += 1;
    let id = format!("ev-{:04}", state.next_id);
    state.events.push((
        realm.into(),
        EventView {
            id,
            kind: kind.into(),
            actor: actor.name.clone(),
            target: Some(target.into()),
            detail: serde_json::json!({"after": {"k": target}}),
            created_at: now(),
        },
    ));
}

const GRANTS: [&str; 6] = [
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

fn check_realm(state: &State, realm: &str) -> AdminResult<()> {
    if state.realms.contains_key(realm) {
        Ok(())
    } else {
        Err(AdminError::not_found(format!("realm {realm}")))
    }
}

#[async_trait]
impl AdminPort for FakePort {
    async fn authenticate_token(&self, _token: &str) -> AdminResult<Actor> {
        Err(AdminError::Unauthorized("no".into()))
    }

    async fn authenticate_password(&self, username: &str, password: &str) -> AdminResult<Actor> {
        if username == "admin" && password == "admin-password-123" {
            Ok(Actor {
                subject: "admin-id".into(),
                name: "admin".into(),
            })
        } else if username == "bob" && password == "bob-password-123" {
            Err(AdminError::Forbidden("not an admin".into()))
        } else {
            Err(AdminError::Unauthorized("invalid credentials".into()))
        }
    }

    async fn still_admin(&self, _actor: &Actor) -> AdminResult<bool> {
        Ok(self.with(|s| s.admin_enabled))
    }

    async fn list_realms(&self, p: PageRequest) -> AdminResult<Page<RealmView>> {
        Ok(self.with(|s| page(s.realms.values().cloned().collect(), &p, |r| r.name.clone())))
    }

    async fn get_realm(&self, realm: &str) -> AdminResult<RealmView> {
        self.with(|s| s.realms.get(realm).cloned())
            .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))
    }

    async fn create_realm(&self, actor: &Actor, input: RealmInput) -> AdminResult<RealmView> {
        let name = input.name.clone().unwrap_or_default();
        let mut errors = FieldErrors::new();
        if name.is_empty() {
            errors.add("name", "is required");
        } else if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            errors.add("name", "must match ^[a-z0-9][a-z0-9_-]{0,62}$");
        }
        if let Some(Some(n)) = input.access_token_lifetime {
            if n <= 0 {
                errors.add("access_token_lifetime", "must be positive");
            }
        }
        errors.finish()?;
        self.with(|s| {
            if s.realms.contains_key(&name) {
                return Err(AdminError::Conflict(format!("realm {name} already exists")));
            }
            let mut view = realm_view(&name);
            apply_realm(&mut view, input);
            s.realms.insert(name.clone(), view.clone());
            s.keys
                .insert(name.clone(), vec![key_view(&format!("{name}-k1"), true)]);
            event(s, &name, actor, "realm.created", &name);
            Ok(view)
        })
    }

    async fn update_realm(
        &self,
        actor: &Actor,
        realm: &str,
        input: RealmInput,
    ) -> AdminResult<RealmView> {
        if let Some(Some(n)) = input.access_token_lifetime {
            if n <= 0 {
                return Err(AdminError::field(
                    "access_token_lifetime",
                    "must be positive",
                ));
            }
        }
        self.with(|s| {
            let view = s
                .realms
                .get_mut(realm)
                .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))?;
            apply_realm(view, input);
            let view = view.clone();
            event(s, realm, actor, "realm.updated", realm);
            Ok(view)
        })
    }

    async fn delete_realm(&self, _actor: &Actor, realm: &str) -> AdminResult<()> {
        if realm == "master" {
            return Err(AdminError::Conflict(
                "realm master cannot be deleted".into(),
            ));
        }
        self.with(|s| s.realms.remove(realm).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))
    }

    async fn realm_summary(&self, realm: &str) -> AdminResult<RealmSummary> {
        self.with(|s| {
            let view = s
                .realms
                .get(realm)
                .cloned()
                .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))?;
            Ok(RealmSummary {
                realm: view,
                clients: realm_items(&s.clients, realm).len() as u64,
                users: realm_items(&s.users, realm).len() as u64,
                scopes: realm_items(&s.scopes, realm).len() as u64,
                api_resources: realm_items(&s.resources, realm).len() as u64,
                active_sessions: realm_items(&s.sessions, realm).len() as u64,
                published_keys: s.keys.get(realm).map(|k| k.len() as u64).unwrap_or(0),
                recent_events: s
                    .events
                    .iter()
                    .rev()
                    .filter(|(r, _)| r == realm)
                    .take(10)
                    .map(|(_, e)| e.clone())
                    .collect(),
            })
        })
    }

    async fn list_clients(&self, realm: &str, p: PageRequest) -> AdminResult<Page<ClientView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.clients, realm), &p, |c| {
                c.client_id.clone()
            }))
        })
    }

    async fn get_client(&self, realm: &str, client_id: &str) -> AdminResult<ClientView> {
        self.with(|s| s.clients.get(&(realm.into(), client_id.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("client {client_id}")))
    }

    async fn create_client(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClientInput,
    ) -> AdminResult<ClientCreated> {
        let client_id = input.client_id.clone().unwrap_or_default();
        let mut errors = FieldErrors::new();
        if client_id.is_empty() {
            errors.add("client_id", "is required");
        }
        let grants = input.grant_types.clone().unwrap_or_default();
        if grants.is_empty() {
            errors.add("grant_types", "is required");
        }
        for g in &grants {
            if !GRANTS.contains(&g.as_str()) {
                errors.add("grant_types", format!("unknown grant type {g}"));
            }
        }
        if grants.iter().any(|g| g == "authorization_code")
            && input.redirect_uris.clone().unwrap_or_default().is_empty()
        {
            errors.add(
                "redirect_uris",
                "authorization_code needs at least one redirect URI",
            );
        }
        for (i, uri) in input
            .redirect_uris
            .clone()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if !uri.starts_with("http") {
                errors.add(&format!("redirect_uris[{i}]"), "must be an absolute URL");
            }
        }
        errors.finish()?;
        self.with(|s| {
            check_realm(s, realm)?;
            let key = (realm.to_string(), client_id.clone());
            if s.clients.contains_key(&key) {
                return Err(AdminError::Conflict(format!(
                    "client {client_id} already exists"
                )));
            }
            let public = input.public.unwrap_or(false);
            let mut view = ClientView {
                client_id: client_id.clone(),
                display_name: None,
                public,
                grant_types: vec![],
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                scopes: vec![],
                audiences: vec![],
                roles: vec![],
                require_pkce: true,
                require_consent: false,
                allow_arbitrary_claims: false,
                always_issue_refresh_token: false,
                access_token_lifetime: None,
                refresh_token_lifetime: None,
                refresh_token_sliding_lifetime: None,
                id_token_lifetime: None,
                code_lifetime: None,
                device_code_lifetime: None,
                access_token_signing_alg: None,
                id_token_signing_alg: None,
                backchannel_logout_uri: None,
                enabled: true,
                has_secret: !public,
                created_at: now(),
                updated_at: now(),
            };
            let secret = (!public).then(|| {
                input
                    .client_secret
                    .clone()
                    .unwrap_or_else(|| "generated-secret-<&>-1234567890".into())
            });
            apply_client(&mut view, input);
            s.clients.insert(key, view.clone());
            event(s, realm, actor, "client.created", &client_id);
            Ok(ClientCreated {
                client: view,
                client_secret: secret,
            })
        })
    }

    async fn update_client(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ClientInput,
    ) -> AdminResult<ClientView> {
        if input.grant_types.as_ref().is_some_and(|g| g.is_empty()) {
            return Err(AdminError::field("grant_types", "is required"));
        }
        self.with(|s| {
            let view = s
                .clients
                .get_mut(&(realm.into(), client_id.into()))
                .ok_or_else(|| AdminError::not_found(format!("client {client_id}")))?;
            apply_client(view, input);
            let view = view.clone();
            event(s, realm, actor, "client.updated", client_id);
            Ok(view)
        })
    }

    async fn delete_client(&self, actor: &Actor, realm: &str, client_id: &str) -> AdminResult<()> {
        self.with(|s| {
            s.clients
                .remove(&(realm.into(), client_id.into()))
                .ok_or_else(|| AdminError::not_found(format!("client {client_id}")))?;
            event(s, realm, actor, "client.deleted", client_id);
            Ok(())
        })
    }

    async fn rotate_client_secret(
        &self,
        _actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ClientSecret> {
        self.with(|s| {
            let c = s
                .clients
                .get(&(realm.into(), client_id.into()))
                .ok_or_else(|| AdminError::not_found(format!("client {client_id}")))?;
            if c.public {
                return Err(AdminError::Conflict("public clients have no secret".into()));
            }
            Ok(ClientSecret {
                client_id: client_id.into(),
                client_secret: "rotated-secret-0987654321".into(),
            })
        })
    }

    async fn list_users(
        &self,
        realm: &str,
        username: Option<&str>,
        p: PageRequest,
    ) -> AdminResult<Page<UserView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            let mut items: Vec<UserView> = realm_items(&s.users, realm)
                .into_iter()
                .filter(|u| username.is_none_or(|n| u.username.starts_with(n)))
                .collect();
            items.sort_by(|a, b| a.username.cmp(&b.username));
            Ok(page(items, &p, |u| u.username.clone()))
        })
    }

    async fn get_user(&self, realm: &str, id: &str) -> AdminResult<UserView> {
        self.with(|s| s.users.get(&(realm.into(), id.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("user {id}")))
    }

    async fn create_user(
        &self,
        actor: &Actor,
        realm: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        let username = input.username.clone().unwrap_or_default();
        if username.is_empty() {
            return Err(AdminError::field("username", "is required"));
        }
        if input.password.as_ref().is_some_and(|p| p.len() < 8) {
            return Err(AdminError::field(
                "password",
                "must be at least 8 characters",
            ));
        }
        self.with(|s| {
            check_realm(s, realm)?;
            if realm_items(&s.users, realm)
                .iter()
                .any(|u| u.username == username)
            {
                return Err(AdminError::Conflict(format!(
                    "user {username} already exists"
                )));
            }
            s.next_id += 1;
            let id = format!("user-{}", s.next_id);
            let mut view = UserView {
                id: id.clone(),
                username: username.clone(),
                email: None,
                email_verified: false,
                claims: Default::default(),
                roles: vec![],
                enabled: true,
                locked: username.starts_with("locked"),
                locked_until: None,
                failed_login_count: 0,
                has_password: input.password.is_some(),
                password_changed_at: None,
                created_at: now(),
                updated_at: now(),
            };
            apply_user(&mut view, input);
            s.users.insert((realm.into(), id.clone()), view.clone());
            event(s, realm, actor, "user.created", &id);
            Ok(view)
        })
    }

    async fn update_user(
        &self,
        _actor: &Actor,
        realm: &str,
        id: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        self.with(|s| {
            let view = s
                .users
                .get_mut(&(realm.into(), id.into()))
                .ok_or_else(|| AdminError::not_found(format!("user {id}")))?;
            apply_user(view, input);
            Ok(view.clone())
        })
    }

    async fn delete_user(&self, _actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        self.with(|s| s.users.remove(&(realm.into(), id.into())).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("user {id}")))
    }

    async fn set_user_password(
        &self,
        _actor: &Actor,
        realm: &str,
        id: &str,
        password: &str,
    ) -> AdminResult<UserView> {
        if password.len() < 8 {
            return Err(AdminError::field(
                "password",
                "must be at least 8 characters",
            ));
        }
        self.with(|s| {
            let view = s
                .users
                .get_mut(&(realm.into(), id.into()))
                .ok_or_else(|| AdminError::not_found(format!("user {id}")))?;
            view.has_password = true;
            view.password_changed_at = Some(now());
            Ok(view.clone())
        })
    }

    async fn unlock_user(&self, _actor: &Actor, realm: &str, id: &str) -> AdminResult<UserView> {
        self.with(|s| {
            let view = s
                .users
                .get_mut(&(realm.into(), id.into()))
                .ok_or_else(|| AdminError::not_found(format!("user {id}")))?;
            view.locked = false;
            Ok(view.clone())
        })
    }

    async fn list_scopes(&self, realm: &str, p: PageRequest) -> AdminResult<Page<ScopeView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.scopes, realm), &p, |v| v.name.clone()))
        })
    }

    async fn get_scope(&self, realm: &str, name: &str) -> AdminResult<ScopeView> {
        self.with(|s| s.scopes.get(&(realm.into(), name.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("scope {name}")))
    }

    async fn create_scope(
        &self,
        _actor: &Actor,
        realm: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        let name = input.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(AdminError::field("name", "is required"));
        }
        let view = ScopeView {
            name: name.clone(),
            description: input.description.flatten(),
            claims: input.claims.unwrap_or_default(),
            audience: input.audience.flatten(),
            include_in_access_token: input.include_in_access_token.unwrap_or(false),
            created_at: now(),
            updated_at: now(),
        };
        self.with(|s| s.scopes.insert((realm.into(), name), view.clone()));
        Ok(view)
    }

    async fn update_scope(
        &self,
        _actor: &Actor,
        realm: &str,
        name: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        self.with(|s| {
            let v = s
                .scopes
                .get_mut(&(realm.into(), name.into()))
                .ok_or_else(|| AdminError::not_found(format!("scope {name}")))?;
            if let Some(d) = input.description {
                v.description = d;
            }
            if let Some(c) = input.claims {
                v.claims = c;
            }
            if let Some(a) = input.audience {
                v.audience = a;
            }
            if let Some(i) = input.include_in_access_token {
                v.include_in_access_token = i;
            }
            Ok(v.clone())
        })
    }

    async fn delete_scope(&self, _actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        self.with(|s| s.scopes.remove(&(realm.into(), name.into())).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("scope {name}")))
    }

    async fn list_api_resources(
        &self,
        realm: &str,
        p: PageRequest,
    ) -> AdminResult<Page<ApiResourceView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.resources, realm), &p, |v| {
                v.name.clone()
            }))
        })
    }

    async fn get_api_resource(&self, realm: &str, name: &str) -> AdminResult<ApiResourceView> {
        self.with(|s| s.resources.get(&(realm.into(), name.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("API resource {name}")))
    }

    async fn create_api_resource(
        &self,
        _actor: &Actor,
        realm: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        let name = input.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(AdminError::field("name", "is required"));
        }
        if let Some(Some(secret)) = &input.secret {
            if secret.len() < 16 {
                return Err(AdminError::field(
                    "secret",
                    "must be at least 16 characters",
                ));
            }
        }
        let view = ApiResourceView {
            name: name.clone(),
            display_name: input.display_name.flatten(),
            scopes: input.scopes.unwrap_or_default(),
            enabled: input.enabled.unwrap_or(true),
            has_secret: input.secret.flatten().is_some(),
            created_at: now(),
            updated_at: now(),
        };
        self.with(|s| s.resources.insert((realm.into(), name), view.clone()));
        Ok(view)
    }

    async fn update_api_resource(
        &self,
        _actor: &Actor,
        realm: &str,
        name: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        self.with(|s| {
            let v = s
                .resources
                .get_mut(&(realm.into(), name.into()))
                .ok_or_else(|| AdminError::not_found(format!("API resource {name}")))?;
            if let Some(d) = input.display_name {
                v.display_name = d;
            }
            if let Some(c) = input.scopes {
                v.scopes = c;
            }
            if let Some(e) = input.enabled {
                v.enabled = e;
            }
            if let Some(secret) = input.secret {
                v.has_secret = secret.is_some();
            }
            Ok(v.clone())
        })
    }

    async fn delete_api_resource(
        &self,
        _actor: &Actor,
        realm: &str,
        name: &str,
    ) -> AdminResult<()> {
        self.with(|s| s.resources.remove(&(realm.into(), name.into())).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("API resource {name}")))
    }

    async fn list_claim_types(
        &self,
        realm: &str,
        p: PageRequest,
    ) -> AdminResult<Page<ClaimTypeView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.claim_types, realm), &p, |v| {
                v.name.clone()
            }))
        })
    }

    async fn get_claim_type(&self, realm: &str, name: &str) -> AdminResult<ClaimTypeView> {
        self.with(|s| s.claim_types.get(&(realm.into(), name.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("claim type {name}")))
    }

    async fn create_claim_type(
        &self,
        _actor: &Actor,
        realm: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        let name = input.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(AdminError::field("name", "is required"));
        }
        let view = ClaimTypeView {
            name: name.clone(),
            description: input.description.flatten(),
            created_at: now(),
            updated_at: now(),
        };
        self.with(|s| s.claim_types.insert((realm.into(), name), view.clone()));
        Ok(view)
    }

    async fn update_claim_type(
        &self,
        _actor: &Actor,
        realm: &str,
        name: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        self.with(|s| {
            let v = s
                .claim_types
                .get_mut(&(realm.into(), name.into()))
                .ok_or_else(|| AdminError::not_found(format!("claim type {name}")))?;
            if let Some(d) = input.description {
                v.description = d;
            }
            Ok(v.clone())
        })
    }

    async fn delete_claim_type(&self, _actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        self.with(|s| {
            s.claim_types
                .remove(&(realm.into(), name.into()))
                .map(|_| ())
        })
        .ok_or_else(|| AdminError::not_found(format!("claim type {name}")))
    }

    async fn list_exchange_policies(
        &self,
        realm: &str,
        p: PageRequest,
    ) -> AdminResult<Page<ExchangePolicyView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.policies, realm), &p, |v| {
                v.client_id.clone()
            }))
        })
    }

    async fn get_exchange_policy(
        &self,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ExchangePolicyView> {
        self.with(|s| s.policies.get(&(realm.into(), client_id.into())).cloned())
            .ok_or_else(|| AdminError::not_found(format!("exchange policy {client_id}")))
    }

    async fn create_exchange_policy(
        &self,
        _actor: &Actor,
        realm: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        let client_id = input.client_id.clone().unwrap_or_default();
        let mut errors = FieldErrors::new();
        if client_id.is_empty() {
            errors.add("client_id", "is required");
        }
        if input.audiences.as_ref().is_none_or(|a| a.is_empty()) {
            errors.add("audiences", "is required");
        }
        errors.finish()?;
        let view = ExchangePolicyView {
            client_id: client_id.clone(),
            audiences: input.audiences.unwrap_or_default(),
            scopes: input.scopes.unwrap_or_default(),
            subject_clients: input.subject_clients.unwrap_or_default(),
            allow_delegation: input.allow_delegation.unwrap_or(false),
            created_at: now(),
            updated_at: now(),
        };
        self.with(|s| s.policies.insert((realm.into(), client_id), view.clone()));
        Ok(view)
    }

    async fn update_exchange_policy(
        &self,
        _actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        self.with(|s| {
            let v = s
                .policies
                .get_mut(&(realm.into(), client_id.into()))
                .ok_or_else(|| AdminError::not_found(format!("exchange policy {client_id}")))?;
            if let Some(a) = input.audiences {
                v.audiences = a;
            }
            if let Some(a) = input.scopes {
                v.scopes = a;
            }
            if let Some(a) = input.subject_clients {
                v.subject_clients = a;
            }
            if let Some(a) = input.allow_delegation {
                v.allow_delegation = a;
            }
            Ok(v.clone())
        })
    }

    async fn delete_exchange_policy(
        &self,
        _actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<()> {
        self.with(|s| {
            s.policies
                .remove(&(realm.into(), client_id.into()))
                .map(|_| ())
        })
        .ok_or_else(|| AdminError::not_found(format!("exchange policy {client_id}")))
    }

    async fn list_keys(&self, realm: &str) -> AdminResult<Vec<KeyView>> {
        self.with(|s| s.keys.get(realm).cloned())
            .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))
    }

    async fn rotate_keys(&self, actor: &Actor, realm: &str) -> AdminResult<Vec<KeyView>> {
        self.with(|s| {
            let keys = s
                .keys
                .get_mut(realm)
                .ok_or_else(|| AdminError::not_found(format!("realm {realm}")))?;
            for k in keys.iter_mut() {
                k.active = false;
                k.retired_at = Some(now());
                k.publish_until = Some(now());
            }
            let kid = format!("{realm}-k{}", keys.len() + 1);
            keys.insert(0, key_view(&kid, true));
            let keys = keys.clone();
            event(s, realm, actor, "keys.rotated", &kid);
            Ok(keys)
        })
    }

    async fn list_revocations(
        &self,
        realm: &str,
        p: PageRequest,
    ) -> AdminResult<Page<RevocationView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.revocations, realm), &p, |v| {
                v.id.clone()
            }))
        })
    }

    async fn create_revocation(
        &self,
        _actor: &Actor,
        realm: &str,
        input: RevocationInput,
    ) -> AdminResult<RevocationView> {
        match input.kind.as_str() {
            "TOKEN" => {
                if input
                    .data
                    .get("token")
                    .and_then(|t| t.as_str())
                    .is_none_or(|t| t.len() < 10)
                {
                    return Err(AdminError::field(
                        "data",
                        "data.token is not a token this realm issued",
                    ));
                }
            }
            "CLAIM" | "GLOBAL" => {}
            _ => return Err(AdminError::field("type", "one of TOKEN, CLAIM, GLOBAL")),
        }
        self.with(|s| {
            s.next_id += 1;
            let id = format!("rev-{}", s.next_id);
            let view = RevocationView {
                id: id.clone(),
                kind: input.kind.clone(),
                jti: None,
                claim_names: input
                    .data
                    .get("claims")
                    .and_then(|c| c.as_object())
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join("|")),
                issued_before: now().timestamp(),
                revoked_at: now(),
                expires_at: now(),
            };
            s.revocations.insert((realm.into(), id), view.clone());
            Ok(view)
        })
    }

    async fn delete_revocation(&self, _actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        self.with(|s| s.revocations.remove(&(realm.into(), id.into())).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("revocation {id}")))
    }

    async fn list_sessions(&self, realm: &str, p: PageRequest) -> AdminResult<Page<SessionView>> {
        self.with(|s| {
            check_realm(s, realm)?;
            Ok(page(realm_items(&s.sessions, realm), &p, |v| v.id.clone()))
        })
    }

    async fn end_session(&self, _actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        self.with(|s| s.sessions.remove(&(realm.into(), id.into())).map(|_| ()))
            .ok_or_else(|| AdminError::not_found(format!("session {id}")))
    }

    async fn list_events(&self, realm: &str, filter: EventFilter) -> AdminResult<Page<EventView>> {
        if let Some(since) = &filter.since {
            if chrono::DateTime::parse_from_rfc3339(since).is_err() {
                return Err(AdminError::field(
                    "since",
                    "an RFC 3339 instant, such as 2026-11-23T10:00:00Z",
                ));
            }
        }
        self.with(|s| {
            check_realm(s, realm)?;
            let mut items: Vec<EventView> = s
                .events
                .iter()
                .filter(|(r, _)| r == realm)
                .map(|(_, e)| e.clone())
                .filter(|e| {
                    filter.kind.as_ref().is_none_or(|k| {
                        if k.ends_with('.') {
                            e.kind.starts_with(k.as_str())
                        } else {
                            &e.kind == k
                        }
                    })
                })
                .filter(|e| filter.actor.as_ref().is_none_or(|a| &e.actor == a))
                .collect();
            items.reverse();
            let limit = filter.limit.unwrap_or(50) as usize;
            let items: Vec<EventView> = items
                .into_iter()
                .filter(|e| filter.cursor.as_ref().is_none_or(|c| e.id < *c))
                .collect();
            let next_cursor = (items.len() > limit).then(|| items[limit - 1].id.clone());
            Ok(Page {
                items: items.into_iter().take(limit).collect(),
                next_cursor,
            })
        })
    }
}

fn apply_realm(view: &mut RealmView, input: RealmInput) {
    if let Some(d) = input.display_name {
        view.display_name = d;
    }
    if let Some(e) = input.enabled {
        view.enabled = e;
    }
    if let Some(d) = input.decentralized {
        view.decentralized = d;
    }
    if let Some(a) = input.signing_alg {
        view.signing_alg = a;
    }
    if let Some(a) = input.id_token_signing_alg {
        view.id_token_signing_alg = a;
    }
    if let Some(c) = input.cookie_mode {
        view.cookie_mode = c;
    }
    if let Some(l) = input.access_token_lifetime {
        view.access_token_lifetime = l;
    }
    if let Some(l) = input.refresh_token_lifetime {
        view.refresh_token_lifetime = l;
    }
    if let Some(l) = input.id_token_lifetime {
        view.id_token_lifetime = l;
    }
}

fn apply_client(view: &mut ClientView, input: ClientInput) {
    if let Some(v) = input.display_name {
        view.display_name = v;
    }
    if let Some(v) = input.grant_types {
        view.grant_types = v;
    }
    if let Some(v) = input.redirect_uris {
        view.redirect_uris = v;
    }
    if let Some(v) = input.post_logout_redirect_uris {
        view.post_logout_redirect_uris = v;
    }
    if let Some(v) = input.scopes {
        view.scopes = v;
    }
    if let Some(v) = input.audiences {
        view.audiences = v;
    }
    if let Some(v) = input.roles {
        view.roles = v;
    }
    if let Some(v) = input.require_pkce {
        view.require_pkce = v;
    }
    if let Some(v) = input.require_consent {
        view.require_consent = v;
    }
    if let Some(v) = input.enabled {
        view.enabled = v;
    }
    if let Some(v) = input.access_token_lifetime {
        view.access_token_lifetime = v;
    }
    if let Some(v) = input.backchannel_logout_uri {
        view.backchannel_logout_uri = v;
    }
}

fn apply_user(view: &mut UserView, input: UserInput) {
    if let Some(v) = input.username {
        view.username = v;
    }
    if let Some(v) = input.email {
        view.email = v;
    }
    if let Some(v) = input.email_verified {
        view.email_verified = v;
    }
    if let Some(v) = input.claims {
        view.claims = v;
    }
    if let Some(v) = input.roles {
        view.roles = v;
    }
    if let Some(v) = input.enabled {
        view.enabled = v;
    }
}
