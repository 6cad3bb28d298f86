//! Tables with a header row: CSV, as PostgreSQL's `csv` format and MySQL exports write it,
//! and `mysql --batch` output. The header decides which column holds what, then every record
//! becomes a row; each format frames and splits its own records ([`super::framing`] for CSV,
//! [`super::batch`] for mysql's).

use std::io::BufRead;
use std::sync::Arc;

use super::framing::{Record, Records};
use super::options::{Format, ImportOptions, Role};
use super::source::{Item, RawRow, Sink, io_error};
use crate::{Error, Result};

/// A table's records, as one format frames and splits them.
pub(crate) trait Table {
    /// The format's name in messages (`the CSV header`).
    const NAME: &'static str;
    /// Why an input without a line cannot be read.
    const EMPTY: &'static str;

    /// The header's line and column names, a refusal, or `None` for an empty input.
    fn header(&mut self) -> std::io::Result<Option<Record>>;

    /// From now on, a record with another number of fields is refused.
    fn expect_width(&mut self, width: usize);

    /// The next record (its line and fields), a refusal, or `None` at the end.
    fn next(&mut self) -> std::io::Result<Option<Record>>;
}

/// Reads a CSV header row and then every record, handing each to `sink`.
pub(crate) fn read(
    input: impl BufRead,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    read_table(Records::new(input, options.delimiter), options, sink)
}

/// Reads a table's header and then every record, handing each to `sink`.
pub(crate) fn read_table<T: Table>(
    mut table: T,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let kind = T::NAME;
    let header = match table.header().map_err(io_error)? {
        None => return Err(Error::config(T::EMPTY)),
        Some(Err(bad)) => {
            return Err(Error::config(format!(
                "the {kind} header (line {}) cannot be read: {}",
                bad.line, bad.message
            )));
        }
        Some(Ok((_, fields))) => fields,
    };
    let header: Vec<String> = header.iter().map(|name| name.trim().to_string()).collect();
    let columns = resolve_header(&header, options, &format!("the {kind} header"))?;
    let names: Vec<Arc<str>> = header.iter().map(|name| Arc::from(name.as_str())).collect();
    // Where no value can be the format's spelling of NULL, that spelling is NULL: the
    // field is absent, as a database's NULL is.
    let null = options.format.null_text();
    table.expect_width(header.len());
    while let Some(record) = table.next().map_err(io_error)? {
        let item = match record {
            Ok((line, mut fields)) => {
                let mut row = RawRow::new(line, None);
                for (at, (role, index)) in columns.iter().enumerate() {
                    if role.never_holds_null_text() && null == Some(fields[*index].as_str()) {
                        continue;
                    }
                    // One column may serve two roles (`--id-column username`): only its
                    // last use may take the text.
                    let reused = columns[at + 1..].iter().any(|(_, later)| later == index);
                    let value = if reused {
                        fields[*index].clone()
                    } else {
                        std::mem::take(&mut fields[*index])
                    };
                    row.set_from(*role, &names[*index], value);
                }
                Item::Row(row)
            }
            Err(rejection) => Item::Rejected(rejection),
        };
        if !sink(item) {
            break;
        }
    }
    Ok(())
}

/// The column index of each role the header provides (`what` names it in messages: the CSV
/// header, a query's result). A column the user named, the hash column, a column the uid
/// template reads, or any login column, missing, stops the import.
pub(crate) fn resolve_header(
    header: &[String],
    options: &ImportOptions,
    what: &str,
) -> Result<Vec<(Role, usize)>> {
    let hint = match options.format {
        Format::MysqlBatch => "",
        _ => delimiter_hint(header),
    };
    let listing = format!("{}{hint}", header.join(", "));
    let mut columns = Vec::new();
    for role in Role::ALL {
        let (names, explicit) = options.columns.candidates(role, Format::Csv);
        let found = names
            .iter()
            .find_map(|name| header.iter().position(|h| h == name));
        match found {
            Some(index) => columns.push((role, index)),
            None if explicit || role == Role::Password || options.uids.uses(role) => {
                return Err(Error::config(format!(
                    "{what} has no `{}` column (set it with {}); its columns are: {listing}",
                    names.join("` or `"),
                    role.flag()
                )));
            }
            None => {}
        }
    }
    if !columns
        .iter()
        .any(|(role, _)| matches!(role, Role::Username | Role::Email))
    {
        return Err(Error::config(format!(
            "{what} has neither a username nor an email column (set them with \
             --username-column / --email-column); its columns are: {listing}"
        )));
    }
    // With both default state columns present, Django's `is_active` wins.
    if columns.iter().any(|(role, _)| *role == Role::Active) {
        columns.retain(|(role, _)| *role != Role::Disabled);
    }
    Ok(columns)
}

/// A header read as one column that holds `;` or tabs was split on the wrong character.
fn delimiter_hint(header: &[String]) -> &'static str {
    match header {
        [only] if only.contains('\t') => " (a single column with tabs in it: give --delimiter tab)",
        [only] if only.contains(';') => " (a single column with `;` in it: give --delimiter ';')",
        [only] if only.contains('|') => " (a single column with `|` in it: give --delimiter '|')",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::options::Columns;
    use crate::passwords::Dialect;

    fn rows(input: &str, options: &ImportOptions) -> Vec<RawRow> {
        let mut rows = Vec::new();
        read(input.as_bytes(), options, &mut |item| {
            match item {
                Item::Row(row) => rows.push(row),
                Item::Rejected(r) => panic!("rejected: {r:?}"),
            }
            true
        })
        .unwrap();
        rows
    }

    #[test]
    fn a_header_split_on_the_wrong_character_suggests_the_delimiter() {
        let options = ImportOptions::new(Format::Csv, Dialect::Werkzeug);
        for (input, hint) in [
            ("id;email;password\n1;a@example.com;x\n", "--delimiter ';'"),
            (
                "id\temail\tpassword\n1\ta@example.com\tx\n",
                "--delimiter tab",
            ),
        ] {
            let err = read(input.as_bytes(), &options, &mut |_| true)
                .unwrap_err()
                .to_string();
            assert!(err.contains(hint), "{err}");
        }
    }

    #[test]
    fn a_column_mapped_to_two_roles_fills_both() {
        let options = ImportOptions {
            columns: Columns {
                id: Some("username".into()),
                ..Columns::default()
            },
            ..ImportOptions::new(Format::Csv, Dialect::Werkzeug)
        };
        let found = rows("username,password\nkim,x\nlee,y\n", &options);
        let pairs: Vec<_> = found
            .iter()
            .map(|row| (row.get(Role::Id), row.get(Role::Username)))
            .collect();
        assert_eq!(
            pairs,
            [(Some("kim"), Some("kim")), (Some("lee"), Some("lee"))]
        );
        assert_eq!(found[1].get(Role::Password), Some("y"));
    }
}
