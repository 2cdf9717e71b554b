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

/// `tessera export` and `tessera import` move a realm between databases sharing a master key:
/// a dry run first, then the import, then a second import that finds nothing to do; the
/// same document as a JSON seed file creates the realm on a third database at start.
#[test]
fn export_and_import_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let master_key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let database = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let (source, target, seeded) = (database("a.db"), database("b.db"), database("c.db"));
    let env = |url: &str| {
        vec![
            ("TESSERA_DATABASE_URL".to_string(), url.to_string()),
            ("TESSERA_MASTER_KEY".to_string(), master_key.to_string()),
            ("TESSERA_LOG".to_string(), "warn".to_string()),
        ]
    };
    let run = |url: &str, args: &[&str]| {
        let env = env(url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        tessera(&env, args)
    };
    let file = dir.path().join("default.json");
    let file = file.to_str().unwrap();

    let (code, _, stderr) = run(
        &source,
        &["export", "--realm", "default", "--include-keys", "-o", file],
    );
    assert_eq!(code, 0, "{stderr}");
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(document["realm"]["name"], "default");
    let kids = crate::common::document_kids(&document);

    // The target made its own realm `default` at first start; the import brings it in line
    // (the document's keys become the active ones, its own are retired).
    let (code, stdout, stderr) = run(&target, &["import", file, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("would be made (dry run"), "{stdout}");
    assert!(stdout.contains(&format!("created signing key \"{}\"", kids[0])));
    let (code, stdout, stderr) = run(&target, &["import", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("change(s) made"), "{stdout}");
    let (code, stdout, stderr) = run(&target, &["import", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("already matches the document"), "{stdout}");
    let (code, exported, stderr) =
        run(&target, &["export", "--realm", "default", "--include-keys"]);
    assert_eq!(code, 0, "{stderr}");
    let exported: serde_json::Value = serde_json::from_str(&exported).unwrap();
    for kid in &kids {
        let key = exported["signing_keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == *kid)
            .expect("the document's keys are the target's");
        assert_eq!(key["active"], true);
    }

    // Broken input: one line naming the problem, nothing written.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"format": "tessera.realm/v1", "realm": {"name": "Not A Name"}}"#,
    )
    .unwrap();
    let (code, _, stderr) = run(&target, &["import", broken.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("realm name"), "{stderr}");

    // The same document as a seed file, on a database where realm `default` is fresh: the
    // seeded realm signs with the document's keys.
    let copy = dir.path().join("seed.json");
    let mut renamed = document.clone();
    renamed["realm"]["name"] = "copied".into();
    renamed["realm"].as_object_mut().unwrap().remove("id");
    renamed.as_object_mut().unwrap().remove("signing_keys");
    for section in ["scopes", "claim_types"] {
        for item in renamed[section].as_array_mut().unwrap() {
            item.as_object_mut().unwrap().remove("id");
        }
    }
    std::fs::write(&copy, renamed.to_string()).unwrap();
    let mut seed_env = env(&seeded);
    seed_env.push((
        "TESSERA_SEED_FILE".to_string(),
        copy.to_str().unwrap().to_string(),
    ));
    let seed_env: Vec<(&str, &str)> = seed_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (code, stdout, stderr) = tessera(&seed_env, &["keys", "rotate", "--realm", "copied"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("new active keys"), "{stdout}");
}

/// `tessera master-key rotate` with SQLite's key file: the file holds the new key afterwards
/// and the server starts with it; a malformed new key changes nothing.
#[test]
fn master_key_rotation_with_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rotate.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let env = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        ("TESSERA_LOG", "warn"),
    ];
    let (code, _, stderr) = tessera(&env, &["keys", "rotate", "--realm", "default"]);
    assert_eq!(code, 0, "{stderr}");
    let key_file = dir.path().join("rotate.db.master.key");
    let old = std::fs::read_to_string(&key_file).unwrap();

    let bad = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        ("TESSERA_NEW_MASTER_KEY", "short"),
    ];
    let (code, _, stderr) = tessera(&bad, &["master-key", "rotate"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("TESSERA_NEW_MASTER_KEY"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), old);

    let new = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let rotate = [
        ("TESSERA_DATABASE_URL", url.as_str()),
        ("TESSERA_NEW_MASTER_KEY", new),
    ];
    let (code, stdout, stderr) = tessera(&rotate, &["master-key", "rotate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("master key rotated"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new);
    assert!(!dir.path().join("rotate.db.master.key.new").exists());
    let (code, stdout, stderr) = tessera(&env, &["keys", "rotate", "--realm", "default"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("new active keys"));
}
