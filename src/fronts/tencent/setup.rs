//! # What `novakeys credentials --cloud tencent` prints, and the tccli profile it can write
//!
//! The SDKs and tccli read `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and
//! `TENCENTCLOUD_REGION`; no Tencent client reads an endpoint variable, so
//! `TENCENTCLOUD_ENDPOINT` is for scripts (`HttpProfile(endpoint=…)` wants it without the
//! scheme, tccli's `--endpoint` with it). tccli ignores those variables when `--profile` is
//! given; it reads `~/.tccli/<profile>.configure` and `.credential` instead, JSON files in the
//! exact form tccli 3.1 writes them (`Utils.dump_json_msg`: sorted keys, 2-space indent, the
//! folder mode 0700). The configure file's `cvm.endpoint` carries the scheme, else tccli
//! forces https, so `tccli --profile NAME cvm DescribeKeyPairs` reaches novakeys as it is.

use super::pipeline::{REGION_ALIASES, VERSION};
use crate::fronts::ClientSetup;
use anyhow::Context;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The region the clients are told (an alias of the configured region).
fn region() -> &'static str {
    REGION_ALIASES[0]
}

/// `value` as one shell word.
fn quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+=,".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

pub fn client_setup(setup: &ClientSetup<'_>) -> anyhow::Result<String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    client_setup_in(setup, home.as_deref())
}

/// [`client_setup`] with the home folder tccli profiles go to.
fn client_setup_in(setup: &ClientSetup<'_>, home: Option<&Path>) -> anyhow::Result<String> {
    let host = setup
        .endpoint
        .split_once("://")
        .map_or(setup.endpoint.as_str(), |(_, h)| h);
    let mut out = format!(
        "export TENCENTCLOUD_SECRET_ID={}\nexport TENCENTCLOUD_SECRET_KEY={}\nexport TENCENTCLOUD_REGION={}\nexport TENCENTCLOUD_ENDPOINT={}\n# SDK: HttpProfile(endpoint=\"{host}\", protocol=\"http\"); tccli: --endpoint {}\n",
        quoted(setup.access),
        quoted(setup.secret),
        region(),
        quoted(&setup.endpoint),
        setup.endpoint,
    );
    if let Some(profile) = setup.profile {
        let home = home.context("cannot write a tccli profile: HOME is not set")?;
        let (configure, credential) =
            write_tccli_profile(home, profile, setup.access, setup.secret, &setup.endpoint)?;
        out.push_str(&format!(
            "# tccli profile {profile}: {} and {} (tccli --profile {profile} cvm DescribeKeyPairs)\n",
            configure.display(),
            credential.display()
        ));
    }
    Ok(out)
}

/// A tccli profile name: what tccli can name a file by.
fn valid_profile(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Object members sorted by name at every depth (Python's `sort_keys=True`).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(String, Value)> = m.into_iter().collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(members.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Writes `text` to `path` through a temporary file beside it (as tccli does), readable by
/// the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes (or updates) the tccli profile `profile` under `home/.tccli`: the credential file
/// holds the SecretId and SecretKey; the configure file keeps what it had and gets the
/// region, a JSON output and `cvm`'s endpoint and version. Returns both paths.
pub fn write_tccli_profile(
    home: &Path,
    profile: &str,
    secret_id: &str,
    secret_key: &str,
    endpoint: &str,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !valid_profile(profile) {
        anyhow::bail!(
            "'{profile}' cannot be a tccli profile name (letters, digits, '-', '_' and '.', not first)"
        );
    }
    let dir = home.join(".tccli");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    let configure = dir.join(format!("{profile}.configure"));
    let credential = dir.join(format!("{profile}.credential"));
    let mut conf: Map<String, Value> = match std::fs::read_to_string(&configure) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => m,
            _ => anyhow::bail!(
                "{} exists but is not a tccli configure file (a JSON object); move it away first",
                configure.display()
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", configure.display())),
    };
    let sys = conf
        .entry("_sys_param")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .with_context(|| format!("{}: `_sys_param` is not an object", configure.display()))?;
    sys.insert("region".into(), json!(region()));
    sys.entry("output").or_insert_with(|| json!("json"));
    sys.entry("arrayCount").or_insert_with(|| json!(10));
    sys.entry("warning").or_insert_with(|| json!("off"));
    conf.insert(
        "cvm".into(),
        json!({"endpoint": endpoint, "version": VERSION}),
    );
    let conf_text = serde_json::to_string_pretty(&sorted(Value::Object(conf)))?;
    let cred = json!({"secretId": secret_id, "secretKey": secret_key});
    let cred_text = serde_json::to_string_pretty(&sorted(cred))?;
    write_private(&configure, &conf_text)?;
    write_private(&credential, &cred_text)?;
    Ok((configure, credential))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup<'a>(profile: Option<&'a str>) -> ClientSetup<'a> {
        ClientSetup {
            access: "AKIDNovakeysDemo00000000000000000001",
            secret: "NovakeysDemoTencentSecretKey0001",
            endpoint: "http://127.0.0.1:8782".into(),
            user_name: "demo",
            project_name: "demo",
            data_path: None,
            profile,
        }
    }

    #[test]
    fn prints_the_sdk_variables_and_the_endpoint() {
        let home = tempfile::tempdir().unwrap();
        let text = client_setup_in(&setup(None), Some(home.path())).unwrap();
        assert!(text.starts_with(
            "export TENCENTCLOUD_SECRET_ID=AKIDNovakeysDemo00000000000000000001\nexport TENCENTCLOUD_SECRET_KEY=NovakeysDemoTencentSecretKey0001\nexport TENCENTCLOUD_REGION=ap-guangzhou\nexport TENCENTCLOUD_ENDPOINT=http://127.0.0.1:8782\n"
        ), "{text}");
        assert!(text.contains("HttpProfile(endpoint=\"127.0.0.1:8782\""));
        assert!(
            !home.path().join(".tccli").exists(),
            "no profile unless asked"
        );
        assert_eq!(quoted("a b'c"), r"'a b'\''c'");
    }

    /// The files in the form tccli 3.1.189.1 writes them (`tccli configure set … --profile nk`
    /// gives the same `_sys_param`, `cvm` and credential text, beside the other services it
    /// adds to every configure file).
    #[test]
    fn writes_a_profile_tccli_reads() {
        let home = tempfile::tempdir().unwrap();
        let text = client_setup_in(&setup(Some("nk")), Some(home.path())).unwrap();
        assert!(
            text.contains("tccli --profile nk cvm DescribeKeyPairs"),
            "{text}"
        );
        let dir = home.path().join(".tccli");
        let configure = std::fs::read_to_string(dir.join("nk.configure")).unwrap();
        assert_eq!(
            configure,
            "{\n  \"_sys_param\": {\n    \"arrayCount\": 10,\n    \"output\": \"json\",\n    \"region\": \"ap-guangzhou\",\n    \"warning\": \"off\"\n  },\n  \"cvm\": {\n    \"endpoint\": \"http://127.0.0.1:8782\",\n    \"version\": \"2017-03-12\"\n  }\n}"
        );
        let credential = std::fs::read_to_string(dir.join("nk.credential")).unwrap();
        assert_eq!(
            credential,
            "{\n  \"secretId\": \"AKIDNovakeysDemo00000000000000000001\",\n  \"secretKey\": \"NovakeysDemoTencentSecretKey0001\"\n}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("nk.credential")), 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn an_existing_profile_keeps_what_else_it_has() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".tccli");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("nk.configure"),
            r#"{"_sys_param": {"output": "table", "region": "ap-shanghai"}, "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}, "cbs": {"endpoint": "cbs.tencentcloudapi.com", "version": "2017-03-12"}}"#,
        )
        .unwrap();
        write_tccli_profile(home.path(), "nk", "AKIDx", "s", "http://127.0.0.1:9").unwrap();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("nk.configure")).unwrap())
                .unwrap();
        assert_eq!(v["_sys_param"]["output"], "table", "kept");
        assert_eq!(v["_sys_param"]["region"], "ap-guangzhou");
        assert_eq!(v["cbs"]["endpoint"], "cbs.tencentcloudapi.com", "kept");
        assert_eq!(v["cvm"]["endpoint"], "http://127.0.0.1:9");
        std::fs::write(dir.join("bad.configure"), "[1]").unwrap();
        assert!(write_tccli_profile(home.path(), "bad", "a", "b", "http://x").is_err());
        for name in ["", "../x", ".hidden", "a/b"] {
            assert!(
                write_tccli_profile(home.path(), name, "a", "b", "http://x").is_err(),
                "{name}"
            );
        }
    }
}
