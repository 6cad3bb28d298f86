//! Firebase Auth exports (`firebase auth:export users.json --format=JSON`): `{"users": [...]}`,
//! streamed user by user. `localId` becomes the uid, `passwordHash` and `salt` become a
//! `firebase`-dialect hash naming the project's parameters (`--hash-config`), and users
//! without a password (Google, phone, … sign-in only) are reported, not imported.

use std::cell::Cell;
use std::fmt;
use std::io::BufRead;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::json::{Element, NewlineCounting};
use super::options::{ImportOptions, Role};
use super::report::Reason;
use super::source::{Item, RawRow, Sink, io_error};
use crate::passwords::FirebaseProject;
use crate::{Error, Result};

/// Reads the export's `users` array; a JSON syntax error ends the import, as in a Django
/// file, since nothing after it can be located.
pub(crate) fn read(
    input: impl BufRead,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let [project] = options.dialects.firebase.as_slice() else {
        return Err(Error::config(
            "--format firebase needs the exported project's password hash parameters: give \
             exactly one --hash-config FILE (Firebase console → Authentication → Users → ⋮ → \
             Password hash parameters)",
        ));
    };
    let newlines = Rc::new(Cell::new(0));
    let reader = NewlineCounting {
        inner: input,
        newlines: newlines.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let stopped = Cell::new(false);
    let visitor = Export {
        users: Users {
            newlines: &newlines,
            project,
            sink,
            stopped: &stopped,
        },
    };
    let result = de::Deserializer::deserialize_map(&mut de, visitor).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(_) if stopped.get() => Ok(()),
        Err(e) if e.is_io() => Err(io_error(e.into())),
        Err(e) if e.is_data() => Err(Error::config(
            "a Firebase export is a JSON object with a `users` array (firebase auth:export \
             users.json --format=JSON)",
        )),
        Err(e) => Err(Error::config(format!(
            "malformed JSON at line {}, column {}: the rest of the Firebase export cannot be read",
            e.line(),
            e.column()
        ))),
    }
}

struct Export<'a, 's> {
    users: Users<'a, 's>,
}

impl<'de> Visitor<'de> for Export<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Firebase Auth export object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut users = Some(self.users);
        while let Some(key) = map.next_key::<String>()? {
            match (key.as_str(), users.take()) {
                ("users", Some(seed)) => map.next_value_seed(seed)?,
                (_, kept) => {
                    users = kept;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Users<'a, 's> {
    newlines: &'a Cell<u64>,
    project: &'a FirebaseProject,
    sink: &'a mut Sink<'s>,
    stopped: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Users<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Users<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Firebase users")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut index = 0;
        while let Some((line, value)) = seq.next_element_seed(Element(self.newlines))? {
            index += 1;
            let item = user(RawRow::new(line, Some(index)), &value, self.project);
            if !(self.sink)(item) {
                self.stopped.set(true);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// One exported user as a row: `localId`, `email`, `disabled`, `createdAt` (milliseconds, as
/// text), and the hash built from `passwordHash` and `salt`.
fn user(mut row: RawRow, value: &Value, project: &FirebaseProject) -> Item {
    let Value::Object(user) = value else {
        return Item::Rejected(row.reject(Reason::MalformedJson, "the user is not an object"));
    };
    let text = |key: &str| match user.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    };
    if let Some(id) = text("localId") {
        row.set(Role::Id, id);
    }
    if let Some(email) = text("email") {
        row.set(Role::Email, email);
    }
    if let Some(disabled) = text("disabled") {
        row.set(Role::Disabled, disabled);
    }
    if let Some(created) = text("createdAt") {
        row.set(Role::Created, milliseconds_to_seconds(&created));
    }
    match (text("passwordHash"), text("salt")) {
        (Some(hash), Some(salt)) => row.set(Role::Password, project.stored_hash(&hash, &salt)),
        (Some(_), None) => {
            return Item::Rejected(row.reject(
                Reason::MissingField,
                "the user has a passwordHash but no salt",
            ));
        }
        (None, _) => {
            let uid = text("localId");
            let mut rejection = row.reject(
                Reason::NoPassword,
                "the user has no password (it signs in with another provider only), so it \
                 cannot sign in with firegate",
            );
            rejection.uid = uid;
            return Item::Rejected(rejection);
        }
    }
    Item::Row(row)
}

/// `1508893925000` → `1508893925.000`, the Unix-seconds form the row reader takes; anything
/// else is passed on to be refused as an invalid timestamp there.
fn milliseconds_to_seconds(ms: &str) -> String {
    if ms.len() > 3 && ms.bytes().all(|b| b.is_ascii_digit()) {
        let (seconds, millis) = ms.split_at(ms.len() - 3);
        format!("{seconds}.{millis}")
    } else {
        ms.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::import::options::Format;
    use crate::passwords::Dialect;

    fn options() -> ImportOptions {
        let mut options = ImportOptions::new(Format::Firebase, Dialect::Firebase);
        let project = FirebaseProject::new(vec![1; 64], vec![7], 8, 14);
        options.dialects.firebase.push(Arc::new(project));
        options
    }

    fn read_all(options: &ImportOptions, input: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        read(input.as_bytes(), options, &mut |item| {
            items.push(item);
            true
        })?;
        Ok(items)
    }

    #[test]
    fn users_become_rows_and_provider_only_users_are_reported() {
        let export = r#"{"users": [
  {"localId": "kYi4EvWQ", "email": "user1@test.com", "emailVerified": false,
   "passwordHash": "lSrfV15c==", "salt": "42xEC+ixf3L2lw==", "displayName": "Test User 1",
   "createdAt": "1508893925000", "disabled": true},
  {"localId": "g00gle", "email": "g@test.com", "providerUserInfo": [{"providerId": "google.com"}]},
  {"localId": "nosalt", "passwordHash": "abc="},
  7
]}"#;
        let options = options();
        let items = read_all(&options, export).unwrap();
        let Item::Row(row) = &items[0] else {
            panic!("{:?}", items[0])
        };
        assert_eq!(row.get(Role::Id), Some("kYi4EvWQ"));
        assert_eq!(row.get(Role::Created), Some("1508893925.000"));
        assert_eq!(row.get(Role::Disabled), Some("true"));
        let id = options.dialects.firebase[0].id();
        let expected = format!("$firebase-scrypt${id}$r=8,m=14$42xEC+ixf3L2lw==$lSrfV15c==");
        assert_eq!(row.get(Role::Password), Some(expected.as_str()));
        assert_eq!((row.line, row.record), (2, Some(1)));
        let reasons: Vec<_> = items[1..]
            .iter()
            .map(|item| match item {
                Item::Rejected(r) => (r.reason, r.uid.clone()),
                Item::Row(_) => panic!("imported {item:?}"),
            })
            .collect();
        assert_eq!(reasons[0], (Reason::NoPassword, Some("g00gle".into())));
        assert_eq!(reasons[1].0, Reason::MissingField);
        assert_eq!(reasons[2].0, Reason::MalformedJson);
    }

    #[test]
    fn the_project_parameters_are_required_and_bad_json_stops() {
        let none = ImportOptions::new(Format::Firebase, Dialect::Firebase);
        let error = read_all(&none, r#"{"users": []}"#).unwrap_err().to_string();
        assert!(error.contains("--hash-config"), "{error}");
        let error = read_all(&options(), "[]").unwrap_err().to_string();
        assert!(error.contains("`users` array"), "{error}");
        let error = read_all(&options(), "{\"users\": [\n{\"localId\": ")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2"), "{error}");
    }
}
