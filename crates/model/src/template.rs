//! Chat templates: the GGUF's `tokenizer.chat_template` (Jinja) rendered with minijinja, the way
//! Hugging Face renders them (trim_blocks, lstrip_blocks, `raise_exception`, `strftime_now`,
//! Python-style `tojson`, Python string methods), with `add_generation_prompt = true`.
//!
//! A model without a template gets the plain format of [`plain_prompt`].

use crate::ModelError;
use evalgap_core::{Message, Role};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind};

/// Renders `template` for `messages` (and `tools`, passed through as the template's `tools`).
pub fn render(
    template: &str,
    messages: &[Message],
    tools: Option<&serde_json::Value>,
    bos_token: &str,
    eos_token: &str,
) -> Result<String, ModelError> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(false);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |msg: String| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    env.add_function("strftime_now", |fmt: String| -> String { strftime_now(&fmt) });
    env.add_filter("tojson", tojson);
    env.add_template("chat", template)
        .map_err(|e| ModelError::Template(format!("the model's chat template does not parse: {e}")))?;
    let msgs: Vec<serde_json::Value> = messages.iter().map(template_message).collect();
    let tools_v = match tools {
        Some(t) if !t.is_null() => Value::from_serialize(t),
        _ => Value::from(()),
    };
    let ctx = minijinja::context! {
        messages => Value::from_serialize(&msgs),
        tools => tools_v,
        add_generation_prompt => true,
        bos_token => bos_token,
        eos_token => eos_token,
    };
    env.get_template("chat")
        .and_then(|t| t.render(ctx))
        .map_err(|e| ModelError::Template(format!("rendering failed: {e}")))
}

/// A message as Hugging Face chat templates read it: tool calls as `{type, function: {name,
/// arguments}}` with the arguments parsed back into JSON where they parse (Qwen's template writes
/// them with `tojson`), and `tool_call_id` on tool results.
fn template_message(m: &Message) -> serde_json::Value {
    let mut v = serde_json::json!({"role": role_name(m.role), "content": m.content});
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| {
                let args = serde_json::from_str::<serde_json::Value>(&c.arguments)
                    .unwrap_or_else(|_| serde_json::Value::String(c.arguments.clone()));
                serde_json::json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": args}})
            })
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = id.clone().into();
    }
    v
}

fn role_name(r: Role) -> &'static str {
    r.as_str()
}

/// The documented prompt format of models without a chat template: a single user message is
/// passed as is (base models continue it); otherwise a transcript
/// `System: ...\n\nUser: ...\nAssistant: ...\n` ending with `Assistant:`.
pub fn plain_prompt(messages: &[Message]) -> String {
    if let [m] = messages {
        if m.role == Role::User {
            return m.content.clone();
        }
    }
    let mut s = String::new();
    for m in messages {
        match m.role {
            Role::System => {
                s.push_str(&m.content);
                s.push_str("\n\n");
            }
            Role::User => s.push_str(&format!("User: {}\n", m.content)),
            Role::Assistant => s.push_str(&format!("Assistant: {}\n", m.content)),
            Role::Tool => s.push_str(&format!("Tool: {}\n", m.content)),
        }
    }
    s.push_str("Assistant:");
    s
}

fn tojson(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let j = serde_json::to_value(&v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let mut out = String::new();
    py_json(&j, indent, 0, &mut out);
    Ok(Value::from_safe_string(out))
}

/// JSON as Python's `json.dumps(ensure_ascii=False)` writes it (`", "` and `": "` separators).
pub fn py_json(v: &serde_json::Value, indent: Option<usize>, level: usize, out: &mut String) {
    use serde_json::Value as J;
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let (item_sep, key_sep) = if indent.is_some() { (",", ": ") } else { (", ", ": ") };
    match v {
        J::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                py_json(x, indent, level + 1, out);
            }
            newline(out, level);
            out.push(']');
        }
        J::Object(o) if !o.is_empty() => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(key_sep);
                py_json(x, indent, level + 1, out);
            }
            newline(out, level);
            out.push('}');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

fn strftime_now(fmt: &str) -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let days = secs.div_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    fmt.replace("%Y", &year.to_string())
        .replace("%m", &format!("{month:02}"))
        .replace("%d", &format!("{day:02}"))
        .replace("%B", MONTHS[(month - 1) as usize])
        .replace("%b", &MONTHS[(month - 1) as usize][..3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chatml_with_generation_prompt() {
        let t = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let s = render(t, &[Message::user("Hi")], None, "", "").unwrap();
        assert_eq!(s, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn raise_exception_and_tools() {
        let t = "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}{% for tool in tools %}{{ tool | tojson }}{% endfor %}";
        let e = render(t, &[Message::system("x")], None, "", "").unwrap_err();
        assert!(e.to_string().contains("first must be user"));
        let tools = serde_json::json!([{"name": "f", "parameters": {"a": 1}}]);
        let s = render(t, &[Message::user("x")], Some(&tools), "", "").unwrap();
        assert_eq!(s, r#"{"name": "f", "parameters": {"a": 1}}"#);
    }

    #[test]
    fn tool_turns_reach_the_template() {
        let t = "{% for m in messages %}{{ m.role }}:{{ m.content }}{% for c in m.tool_calls %}[{{ c.function.name }} {{ c.function.arguments | tojson }}]{% endfor %}{% if m.tool_call_id %}<{{ m.tool_call_id }}>{% endif %};{% endfor %}";
        let call =
            evalgap_core::ToolCall { id: "c0".into(), name: "shell".into(), arguments: "{\"command\": \"ls\"}".into() };
        let msgs = [Message::user("go"), Message::assistant_calls("", vec![call]), Message::tool_result("c0", "done")];
        let s = render(t, &msgs, None, "", "").unwrap();
        assert_eq!(s, r#"user:go;assistant:[shell {"command": "ls"}];tool:done<c0>;"#);
    }

    #[test]
    fn python_string_methods() {
        let t = "{{ messages[0].content.strip() }}|{% if messages[0].content.startswith(' a') %}yes{% endif %}";
        let s = render(t, &[Message::user(" ab ")], None, "", "").unwrap();
        assert_eq!(s, "ab|yes");
    }

    #[test]
    fn plain_format() {
        assert_eq!(plain_prompt(&[Message::user("The sky is")]), "The sky is");
        let s = plain_prompt(&[Message::system("Be brief."), Message::user("Hi")]);
        assert_eq!(s, "Be brief.\n\nUser: Hi\nAssistant:");
    }
}
