//! `GET /_emu/credentials`: the credentials the running world accepts, for `taskemu env` to hand a
//! test job the keys its SDK's default credential chain reads. Nothing here is secret beyond what
//! any control caller could already change (a control caller may replace the world, credentials
//! included); when the control plane needs a token, so does this.

use serde_json::{json, Value};

use crate::auth::gate::{Credential, Secret};
use crate::state::State;

/// Whether auth is on, and each credential with its secret, its project and its permissions.
pub(crate) fn list(state: &State) -> Value {
    let snapshot = state.snapshot();
    let credentials: Vec<Value> = snapshot.settings.credentials.iter().map(describe).collect();
    json!({ "auth": state.auth_on(&snapshot), "credentials": credentials })
}

fn describe(credential: &Credential) -> Value {
    let mut entry = match &credential.secret {
        Secret::Alibaba { key_id, secret } => json!({ "kind": "alibaba", "access_key_id": key_id, "access_key_secret": secret }),
        Secret::HuaweiAkSk { ak, sk } => json!({ "kind": "huawei", "ak": ak, "sk": sk }),
        Secret::HuaweiToken { token } => json!({ "kind": "huawei_token", "token": token }),
    };
    entry["project_id"] = json!(credential.project_id);
    entry["allow"] = json!(credential.allow);
    entry["deny"] = json!(credential.deny);
    entry
}
