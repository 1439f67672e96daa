//! The XML of Query API responses, as IAM writes it: `<OpResponse xmlns=...>` with `<OpResult>`
//! before `<ResponseMetadata>`, and `<ErrorResponse>` with `<RequestId>` as a direct child.
//! No XML declaration, two-space indent, a final newline.

use std::{io, time::SystemTime};

use quick_xml::{Writer, escape::partial_escape, events::BytesText};

/// The namespace of every IAM response.
pub(super) const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// An element of a response: text, or a parent of further elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    Text(&'static str, String),
    Parent(&'static str, Vec<Node>),
}

impl Node {
    pub(super) fn text(name: &'static str, value: impl Into<String>) -> Self {
        Self::Text(name, value.into())
    }

    pub(super) fn boolean(name: &'static str, value: bool) -> Self {
        Self::Text(name, if value { "true" } else { "false" }.to_owned())
    }

    pub(super) fn number(name: &'static str, value: impl ToString) -> Self {
        Self::Text(name, value.to_string())
    }

    pub(super) fn date(name: &'static str, value: SystemTime) -> Self {
        Self::Text(name, iso8601(value))
    }
}

/// A timestamp as IAM writes it: ISO-8601 UTC with a `Z`, to the second.
pub(super) fn iso8601(time: SystemTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from(time)
        .format(format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The body of a successful response. `result` holds the children of `<OpResult>`; operations
/// without output pass an empty list and get no `<OpResult>` at all.
pub(super) fn success(action: &str, result: Vec<Node>, request_id: &str) -> io::Result<String> {
    let mut children = Vec::new();
    if !result.is_empty() {
        children.push(Element::Dynamic(format!("{action}Result"), result));
    }
    children.push(Element::Static(Node::Parent(
        "ResponseMetadata",
        vec![Node::text("RequestId", request_id)],
    )));
    document(&format!("{action}Response"), children)
}

/// The body of an error response.
pub(super) fn error(
    fault: &str,
    code: &str,
    message: &str,
    request_id: &str,
) -> io::Result<String> {
    let error = Node::Parent(
        "Error",
        vec![
            Node::text("Type", fault),
            Node::text("Code", code),
            Node::text("Message", message),
        ],
    );
    document(
        "ErrorResponse",
        vec![
            Element::Static(error),
            Element::Static(Node::text("RequestId", request_id)),
        ],
    )
}

/// A child of the root: a fixed name, or one derived from the action (`<CreateUserResult>`).
enum Element {
    Static(Node),
    Dynamic(String, Vec<Node>),
}

fn document(root: &str, children: Vec<Element>) -> io::Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer
        .create_element(root)
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            for child in &children {
                match child {
                    Element::Static(node) => write_node(w, node)?,
                    Element::Dynamic(name, nodes) => write_parent(w, name, nodes)?,
                }
            }
            Ok::<(), io::Error>(())
        })?;
    let mut text = String::from_utf8(writer.into_inner())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    text.push('\n');
    Ok(text)
}

fn write_node(w: &mut Writer<Vec<u8>>, node: &Node) -> io::Result<()> {
    match node {
        Node::Text(name, value) => {
            // Only `&`, `<` and `>` need escaping in text; IAM leaves quotes as they are.
            w.create_element(*name)
                .write_text_content(BytesText::from_escaped(partial_escape(value)))?;
        }
        Node::Parent(name, children) => write_parent(w, name, children)?,
    }
    Ok(())
}

fn write_parent(w: &mut Writer<Vec<u8>>, name: &str, children: &[Node]) -> io::Result<()> {
    if children.is_empty() {
        w.create_element(name).write_empty()?;
        return Ok(());
    }
    w.create_element(name)
        .write_inner_content(|w| children.iter().try_for_each(|child| write_node(w, child)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn an_empty_result_is_byte_for_byte_what_iam_sends() {
        let body = success(
            "UpdateLoginProfile",
            Vec::new(),
            "11b6fde3-9f28-4265-8fac-88e3f5a238d3",
        )
        .unwrap();
        assert_eq!(
            body,
            "<UpdateLoginProfileResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  \
             <ResponseMetadata>\n    <RequestId>11b6fde3-9f28-4265-8fac-88e3f5a238d3</RequestId>\n  \
             </ResponseMetadata>\n</UpdateLoginProfileResponse>\n"
        );
        assert_eq!(body.len(), 216);
    }

    #[test]
    fn the_result_comes_before_the_metadata() {
        let body = success(
            "GetUser",
            vec![Node::Parent(
                "User",
                vec![
                    Node::text("UserName", "a&b<c>'\""),
                    Node::boolean("X", false),
                ],
            )],
            "rid",
        )
        .unwrap();
        let result = body.find("<GetUserResult>").unwrap();
        let metadata = body.find("<ResponseMetadata>").unwrap();
        assert!(result < metadata, "{body}");
        assert!(
            body.contains("<UserName>a&amp;b&lt;c&gt;'\"</UserName>"),
            "{body}"
        );
        assert!(body.contains("<X>false</X>"), "{body}");
    }

    #[test]
    fn errors_carry_type_code_message_and_a_top_level_request_id() {
        let body = error(
            "Sender",
            "NoSuchEntity",
            "The user with name x cannot be found.",
            "r1",
        )
        .unwrap();
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    \
             <Type>Sender</Type>\n    <Code>NoSuchEntity</Code>\n    \
             <Message>The user with name x cannot be found.</Message>\n  </Error>\n  \
             <RequestId>r1</RequestId>\n</ErrorResponse>\n"
        );
    }

    #[test]
    fn empty_lists_are_empty_elements_and_dates_end_in_z() {
        let body = success("ListUsers", vec![Node::Parent("Users", vec![])], "r").unwrap();
        assert!(body.contains("<Users/>"), "{body}");
        let date = iso8601(UNIX_EPOCH + Duration::from_millis(1_426_020_940_274));
        assert_eq!(date, "2015-03-10T20:55:40Z");
    }
}
