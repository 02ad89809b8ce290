//! Ties the hand-kept key lists (used in hints and in the staff guide) to
//! the structs serde reads, so a field added to one cannot be forgotten in
//! the other. Test-only.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// The field names serde would accept for `T`, read by asking `T` to
/// deserialize itself from a deserializer that only records them.
pub(crate) fn field_names<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
    let mut fields = Vec::new();
    let _ = T::deserialize(FieldRecorder { fields: &mut fields });
    fields
}

struct FieldRecorder<'a> {
    fields: &'a mut Vec<&'static str>,
}

impl<'de> Deserializer<'de> for FieldRecorder<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.fields.extend_from_slice(fields);
        Err(de::Error::custom("only the field names were wanted"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The keys of a `(key, example)` list, sorted.
pub fn names(keys: &[(&str, &str)]) -> Vec<String> {
    let mut names: Vec<String> = keys.iter().map(|(k, _)| (*k).to_string()).collect();
    names.sort();
    names
}

/// Field names, sorted.
pub(crate) fn sorted(fields: impl IntoIterator<Item = &'static str>) -> Vec<String> {
    let mut names: Vec<String> = fields.into_iter().map(String::from).collect();
    names.sort();
    names.dedup();
    names
}

/// The keys in the first column of the markdown table that follows
/// `heading` in README.md: rows like "| `title` | ...".
pub(crate) fn readme_table_keys(heading: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let section = readme.split_once(heading).map_or("", |(_, after)| after);
    let mut keys: Vec<String> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(String::from).collect::<Vec<_>>())
        .filter(|key| key.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '[' || c == ']'))
        .map(|key| key.trim_matches(['[', ']']).to_string())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
