//! The variables a Fluent message uses (`{ $name }`, in selectors, variants and function
//! arguments too), read from its syntax tree: what start-up checks against what each message
//! is given.

use std::collections::BTreeSet;

use fluent_syntax::ast::{Expression, InlineExpression, Pattern, PatternElement};

/// Adds the names of the variables `pattern` uses to `found`.
pub(super) fn used_in(pattern: &Pattern<&str>, found: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_uses(expression, found);
        }
    }
}

fn expression_uses(expression: &Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        Expression::Select { selector, variants } => {
            inline_uses(selector, found);
            for variant in variants {
                used_in(&variant.value, found);
            }
        }
        Expression::Inline(inline) => inline_uses(inline, found),
    }
}

fn inline_uses(inline: &InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_string());
        }
        InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_uses(argument, found);
            }
            for named in &arguments.named {
                inline_uses(&named.value, found);
            }
        }
        InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            for named in &arguments.named {
                inline_uses(&named.value, found);
            }
        }
        InlineExpression::Placeable { expression } => expression_uses(expression, found),
        // A message reference is checked where it is defined.
        InlineExpression::TermReference { .. }
        | InlineExpression::MessageReference { .. }
        | InlineExpression::StringLiteral { .. }
        | InlineExpression::NumberLiteral { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast::Entry;

    fn used(text: &str) -> Vec<String> {
        let resource = fluent_syntax::parser::parse(text).unwrap();
        let Entry::Message(message) = &resource.body[0] else {
            panic!("a message")
        };
        let mut found = BTreeSet::new();
        used_in(message.value.as_ref().unwrap(), &mut found);
        found.into_iter().collect()
    }

    #[test]
    fn variables_are_found_in_selectors_variants_and_arguments() {
        assert_eq!(used("a = plain text"), [] as [&str; 0]);
        assert_eq!(used("a = { $to } and { $product }"), ["product", "to"]);
        let select = "a = { $n ->\n    [one] one\n   *[other] { NUMBER($m, minimumIntegerDigits: 2) } { F($k) }\n}";
        assert_eq!(used(select), ["k", "m", "n"]);
        assert_eq!(used("a = { { $nested } }"), ["nested"]);
        assert_eq!(used("a = { -term } { other }"), [] as [&str; 0]);
    }
}
