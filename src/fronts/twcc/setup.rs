//! # `novakeys credentials --cloud twcc`: what twcc-cli needs to run offline against novakeys
//!
//! twcc-cli 0.6.1 reads everything from its data folder (`TWCC_DATA_PATH`, else
//! `~/.twcc_data`) except its API host, which comes only from its packaged settings file.
//! With `--data-path DIR` this writes the folder so that the CLI never runs `config init`
//! (which calls an IP-geolocation site, TWCC's user, project and S3 APIs and Google
//! Analytics) nor fetches its release feed from pypi.org:
//!
//! - `DIR/` and `DIR/log/`: the CLI ignores `TWCC_DATA_PATH` unless it is an existing
//!   directory, and its start-up does `mkdir(DIR)` (failing on an existing DIR) when `log/`
//!   is missing;
//! - `DIR/credential` (YAML, mode 600): every member below is read at start-up (a missing
//!   one is a `KeyError`); `_meta.cli_version` must equal the CLI's version or it re-runs
//!   `config init`; `projects.<code>.CNTR` must exist (the key pair commands read it); no
//!   `_meta.ga_cid`, so nothing goes to Google Analytics;
//! - `DIR/releases.xml`: the cached PyPI feed, read on every start; its first item's title
//!   must be a version not newer than the CLI's (a newer one pages an upgrade banner).
//!
//! It prints `export TWCC_DATA_PATH='DIR'` and, as comments, the one host setting the CLI
//! needs: `production.host` in its packaged `twccli/yaml/TWCC_API.yaml`. Without
//! `--data-path` it prints the CLI's API key variable and says how to get the folder: it never
//! writes `~/.twcc_data`, which may hold a real TWCC credential.

use crate::fronts::ClientSetup;
use anyhow::Context;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The twcc-cli release the folder is written for (`compat/twcc/requirements.txt`).
pub const CLI_VERSION: &str = "0.6.1";

/// What `novakeys credentials --cloud twcc` prints (and, with a data path, writes).
pub fn client_setup(setup: &ClientSetup) -> anyhow::Result<String> {
    if setup.endpoint.ends_with(":0") {
        anyhow::bail!(
            "the twcc front's port is 0 (any free port): pass --twcc-bind ADDR:PORT with the address the server listens on"
        );
    }
    let host = host_lines(&setup.endpoint);
    let Some(dir) = setup.data_path else {
        return Ok(format!(
            "export _TWCC_API_KEY_={}\n# twcc-cli also needs a data folder to run offline: add --data-path DIR\n{host}",
            shell_quote(setup.access)
        ));
    };
    let dir = write_data_folder(dir, setup, &chrono::Local::now())?;
    Ok(format!(
        "export TWCC_DATA_PATH={}\n{host}",
        shell_quote(&dir.display().to_string())
    ))
}

fn host_lines(endpoint: &str) -> String {
    format!(
        "# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:\n#   host: \"{}\"\n",
        endpoint.trim_end_matches('/')
    )
}

/// Writes the data folder (see the module comment) and answers its absolute path.
fn write_data_folder(
    dir: &Path,
    setup: &ClientSetup,
    now: &chrono::DateTime<chrono::Local>,
) -> anyhow::Result<std::path::PathBuf> {
    let log = dir.join("log");
    std::fs::create_dir_all(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let path = dir.join("credential");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // An existing file keeps its mode on open: the API key is for its owner only.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(credential_yaml(setup, now).as_bytes())?;
    let feed = dir.join("releases.xml");
    std::fs::write(&feed, releases_xml())
        .with_context(|| format!("cannot write {}", feed.display()))?;
    Ok(dir)
}

/// A YAML scalar in single quotes (`'` doubled): never read as a number, date or null.
fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `'…'` for a POSIX shell (`'` as `'\''`).
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The credential file `config init` would write. The project code names the TWCC project;
/// novakeys' is the Keystone project's name. The per-service cluster ids under
/// `projects.<code>` are never sent by the key pair commands; the project name stands in.
fn credential_yaml(setup: &ClientSetup, now: &chrono::DateTime<chrono::Local>) -> String {
    let code = yaml_str(setup.project_name);
    // The CLI writes ctime with Python's local `datetime.now()`.
    let ctime = now.format("%Y-%m-%d %H:%M:%S").to_string();
    format!(
        "_default:\n  twcc_api_key: {key}\n  twcc_proj_code: {code}\n  twcc_s3_access_key: ''\n  twcc_s3_secret_key: ''\n  twcc_username: {user}\n_meta:\n  cli_version: {version}\n  ctime: {ctime}\nprojects:\n  {code}:\n    CNTR: {code}\n    COS: {code}\n    HPCJ: {code}\n    VCS: {code}\n",
        key = yaml_str(setup.access),
        user = yaml_str(setup.user_name),
        version = yaml_str(CLI_VERSION),
        ctime = yaml_str(&ctime),
    )
}

/// PyPI's RSS feed of twcc-cli, with the installed release as its newest item.
fn releases_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>PyPI recent updates for twcc-cli</title>
    <link>https://pypi.org/project/twcc-cli/</link>
    <description>Recent updates to the Python Package Index for twcc-cli</description>
    <item>
      <title>{CLI_VERSION}</title>
      <link>https://pypi.org/project/twcc-cli/{CLI_VERSION}/</link>
      <pubDate>Thu, 02 Mar 2023 00:00:00 GMT</pubDate>
    </item>
  </channel>
</rss>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn setup<'a>(dir: Option<&'a Path>, project: &'a str) -> ClientSetup<'a> {
        ClientSetup {
            access: "nk-twcc-demo-key-0001",
            secret: "",
            endpoint: "http://127.0.0.1:8783".into(),
            user_name: "demo",
            project_name: project,
            data_path: dir,
            profile: None,
        }
    }

    #[test]
    fn the_data_folder_is_what_twcc_cli_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let out = client_setup(&setup(Some(&dir), "demo")).unwrap();
        let abs = dir.canonicalize().unwrap();
        assert_eq!(
            out,
            format!(
                "export TWCC_DATA_PATH='{}'\n# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:\n#   host: \"http://127.0.0.1:8783\"\n",
                abs.display()
            )
        );
        assert!(abs.join("log").is_dir());
        let cred = abs.join("credential");
        let mode = std::fs::metadata(&cred).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let y: Value = serde_yaml::from_str(&std::fs::read_to_string(&cred).unwrap()).unwrap();
        assert_eq!(y["_default"]["twcc_api_key"], "nk-twcc-demo-key-0001");
        assert_eq!(y["_default"]["twcc_username"], "demo");
        assert_eq!(y["_default"]["twcc_proj_code"], "demo");
        assert_eq!(y["_default"]["twcc_s3_access_key"], "");
        assert_eq!(y["_meta"]["cli_version"], "0.6.1");
        assert!(y["_meta"]["ctime"].is_string());
        assert!(y["_meta"].get("ga_cid").is_none(), "no Google Analytics");
        for service in ["CNTR", "COS", "HPCJ", "VCS"] {
            assert_eq!(y["projects"]["demo"][service], "demo");
        }
        let feed = std::fs::read_to_string(abs.join("releases.xml")).unwrap();
        let first = feed.split("<item>").nth(1).unwrap();
        assert!(first.contains("<title>0.6.1</title>"), "{feed}");
    }

    #[test]
    fn an_existing_credential_is_rewritten_for_its_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let cred = tmp.path().join("credential");
        std::fs::write(&cred, "old").unwrap();
        std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o644)).unwrap();
        client_setup(&setup(Some(tmp.path()), "demo")).unwrap();
        let mode = std::fs::metadata(&cred).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!std::fs::read_to_string(&cred).unwrap().contains("old"));
    }

    #[test]
    fn odd_values_stay_strings() {
        let now = chrono::Local::now();
        let y: Value =
            serde_yaml::from_str(&credential_yaml(&setup(None, "it's 2024"), &now)).unwrap();
        assert_eq!(y["_default"]["twcc_proj_code"], "it's 2024");
        assert_eq!(y["projects"]["it's 2024"]["CNTR"], "it's 2024");
        assert_eq!(shell_quote("/tmp/a'b"), r"'/tmp/a'\''b'");
    }

    #[test]
    fn without_a_data_path_nothing_is_written() {
        let out = client_setup(&setup(None, "demo")).unwrap();
        assert!(
            out.starts_with("export _TWCC_API_KEY_='nk-twcc-demo-key-0001'\n"),
            "{out}"
        );
        assert!(out.contains("#   host: \"http://127.0.0.1:8783\"\n"));
        let mut s = setup(None, "demo");
        s.endpoint = "http://127.0.0.1:0".into();
        assert!(
            client_setup(&s).is_err(),
            "port 0 is no address a client can use"
        );
    }
}
