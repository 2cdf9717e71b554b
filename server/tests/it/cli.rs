//! The `tessera` binary: bad configuration exits non-zero with one line naming the variable.

use std::process::Command;

fn tessera(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command.current_dir(dir.path()).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("TESSERA_") {
            command.env_remove(key);
        }
    }
    command.env("TESSERA_BIND", "127.0.0.1:0");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("tessera runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_names_the_variable() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("TESSERA_BIND", "not-an-address")], "TESSERA_BIND"),
        (
            &[("TESSERA_DATABASE_URL", "mysql://x")],
            "TESSERA_DATABASE_URL",
        ),
        (&[("TESSERA_PUBLIC_URL", "ftp://x")], "TESSERA_PUBLIC_URL"),
        (&[("TESSERA_MASTER_KEY", "too-short")], "TESSERA_MASTER_KEY"),
        (
            &[("TESSERA_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
            "TESSERA_MASTER_KEY",
        ),
        (
            &[
                ("TESSERA_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
                (
                    "TESSERA_MASTER_KEY",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
            ],
            "TESSERA_DATABASE_URL",
        ),
    ];
    for (env, variable) in cases {
        let (code, _, stderr) = tessera(env, &["migrate"]);
        assert_ne!(code, 0, "{env:?} must fail");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].contains(variable), "{variable} named in: {stderr}");
    }
}

#[test]
fn migrate_then_rotate_keys_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let env = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        ("TESSERA_LOG", "warn"),
    ];
    let (code, stdout, stderr) = tessera(&env, &["migrate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("migrated"));

    let (code, stdout, stderr) = tessera(&env, &["keys", "rotate", "--realm", "default"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("new active keys"), "{stdout}");
    assert!(
        stdout.contains("password:"),
        "first start prints the generated admin password once"
    );

    let (code, stdout, _) = tessera(&env, &["keys", "rotate", "--realm", "default"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("password:"), "never printed twice");

    let (code, _, stderr) = tessera(&env, &["keys", "rotate", "--realm", "missing"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("missing"));

    // A different master key cannot open the stored keys: refused, naming the variable.
    let wrong = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        (
            "TESSERA_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
    ];
    let (code, _, stderr) = tessera(&wrong, &["keys", "rotate", "--realm", "default"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("TESSERA_MASTER_KEY"), "{stderr}");
}

/// `migrate --status` reports without changing anything, and a database a newer Tessera has
/// migrated still starts this build (a rolling upgrade), with the newer migrations listed.
#[test]
fn migration_status_and_a_database_from_a_newer_build() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("up.db").display());
    let env = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        ("TESSERA_LOG", "warn"),
    ];
    let count = |stdout: &str, word: &str| {
        stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{word} ")))
            .count()
    };
    let (code, stdout, stderr) = tessera(&env, &["migrate", "--status"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&stdout, "applied"), 0, "{stdout}");
    let known = count(&stdout, "pending");
    assert!(known > 5, "{stdout}");
    let (code, stdout, _) = tessera(&env, &["migrate", "--status"]);
    assert_eq!(
        (code, count(&stdout, "pending")),
        (0, known),
        "status changed nothing"
    );

    assert_eq!(tessera(&env, &["migrate"]).0, 0);
    let (_, stdout, _) = tessera(&env, &["migrate", "--status"]);
    assert_eq!(count(&stdout, "applied"), known, "{stdout}");
    assert_eq!(count(&stdout, "pending"), 0, "{stdout}");

    // A newer build added a migration: this one lists it and still starts.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    });
    let (code, stdout, stderr) = tessera(&env, &["migrate", "--status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("newer    m20991231_000001_future"),
        "{stdout}"
    );
    let (code, stdout, stderr) = tessera(&env, &["keys", "rotate", "--realm", "default"]);
    assert_eq!(code, 0, "runs beside the newer schema: {stderr}");
    assert!(stdout.contains("new active keys"), "{stdout}");

    // Newer migrations *and* a missing one of its own: another line of releases; refused.
    let (_, stdout, _) = tessera(&env, &["migrate", "--status"]);
    let latest = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("applied  "))
        .next_back()
        .unwrap()
        .to_string();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared(&format!(
            "DELETE FROM seaql_migrations WHERE version = '{latest}'"
        ))
        .await
        .unwrap();
        db.close().await.unwrap();
    });
    let (code, _, stderr) = tessera(&env, &["migrate"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("different line"), "{stderr}");
}

#[test]
fn help_lists_every_setting() {
    let (code, stdout, _) = tessera(&[], &["--help"]);
    assert_eq!(code, 0);
    for variable in [
        "TESSERA_DATABASE_URL",
        "TESSERA_BIND",
        "TESSERA_PUBLIC_URL",
        "TESSERA_ADMIN_USERNAME",
        "TESSERA_ADMIN_PASSWORD",
        "TESSERA_MASTER_KEY",
        "TESSERA_SEED_FILE",
        "TESSERA_LOG",
        "TESSERA_LOG_FORMAT",
    ] {
        assert!(stdout.contains(variable), "--help mentions {variable}");
    }
}
