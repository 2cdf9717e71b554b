//! The standard scopes of OpenID Connect Core §5.4 (plus `offline_access` and `roles`) and the
//! claims each one releases.

/// A scope every realm starts with.
#[derive(Debug, Clone, Copy)]
pub struct StandardScope {
    pub name: &'static str,
    pub description: &'static str,
    pub claims: &'static [&'static str],
}

pub const STANDARD_SCOPES: &[StandardScope] = &[
    StandardScope {
        name: "openid",
        description: "Sign you in (OpenID Connect)",
        claims: &["sub"],
    },
    StandardScope {
        name: "profile",
        description: "Your basic profile: name, picture, locale",
        claims: &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    },
    StandardScope {
        name: "email",
        description: "Your email address",
        claims: &["email", "email_verified"],
    },
    StandardScope {
        name: "address",
        description: "Your postal address",
        claims: &["address"],
    },
    StandardScope {
        name: "phone",
        description: "Your phone number",
        claims: &["phone_number", "phone_number_verified"],
    },
    StandardScope {
        name: "offline_access",
        description: "Stay signed in (refresh tokens)",
        claims: &[],
    },
    StandardScope {
        name: "roles",
        description: "Your roles",
        claims: &["roles"],
    },
];

/// Every claim type a standard scope releases, with a description.
pub const STANDARD_CLAIM_TYPES: &[(&str, &str)] = &[
    ("sub", "Subject identifier"),
    ("name", "Full name"),
    ("family_name", "Surname"),
    ("given_name", "Given name"),
    ("middle_name", "Middle name"),
    ("nickname", "Casual name"),
    ("preferred_username", "Shorthand name"),
    ("profile", "Profile page URL"),
    ("picture", "Profile picture URL"),
    ("website", "Web page or blog URL"),
    ("gender", "Gender"),
    ("birthdate", "Birthday (YYYY-MM-DD)"),
    ("zoneinfo", "Time zone"),
    ("locale", "Locale"),
    ("updated_at", "Time the profile was last updated"),
    ("email", "Email address"),
    ("email_verified", "Whether the email address was verified"),
    ("address", "Postal address (JSON object)"),
    ("phone_number", "Phone number"),
    (
        "phone_number_verified",
        "Whether the phone number was verified",
    ),
    ("roles", "Roles of the user"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_claim_is_a_known_claim_type() {
        for scope in STANDARD_SCOPES {
            for claim in scope.claims {
                assert!(
                    STANDARD_CLAIM_TYPES.iter().any(|(name, _)| name == claim),
                    "{claim} of {} has no claim type",
                    scope.name
                );
            }
        }
    }
}
