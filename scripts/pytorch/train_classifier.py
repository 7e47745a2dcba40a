#!/usr/bin/env python3
"""Trains a tiny transformer intent classifier and exports it in the Hugging Face layout.

Reads training data in Switchboard's generic format, {"intents": {name: [examples]},
"outOfScope": [sentences]} as printed by flow-data.ts, and writes into --out: model.onnx,
tokenizer.json, tokenizer_config.json, config.json, and parity.json (sentences with the token
ids and the logits PyTorch computed for them, to check another runtime against).

    python3 scripts/pytorch/train_classifier.py --data data.json --out DIR [--seed 1]
"""

import argparse
import json
import math
import os
import re
import string
import time
import unicodedata

import torch
from torch import nn

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD_ID, UNK_ID, CLS_ID, SEP_ID = range(len(SPECIAL_TOKENS))
MAX_LENGTH = 64  # tokens per input with [CLS] and [SEP]; also the number of positions
MAX_CHARS_PER_WORD = 100
# Always in the vocabulary, alone and as "##" continuations, so that any word of ASCII letters
# and digits can be encoded, even one the data never used.
BASE_CHARS = string.ascii_lowercase + string.digits + string.punctuation

# ------------------------------------------------------------------------------------------------
# Tokenizer: the BertNormalizer + BertPreTokenizer + WordPiece pipeline of Hugging Face tokenizers,
# written out so that training sees exactly the ids tokenizer.json gives at serving time. Where the
# Rust library and tokenizers.js disagree (unassigned code points, CJK ideographs outside the BMP)
# this follows tokenizers.js, which is what Switchboard runs.


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def is_chinese_char(cp):
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def is_punctuation(ch):
    # BERT counts every ASCII symbol ("$", "+", "^") as punctuation, besides Unicode's P* classes.
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize(text):
    """BertNormalizer: clean_text, handle_chinese_chars, lowercase, strip_accents."""
    out = []
    for ch in text:
        if ch in "\0\ufffd" or is_control(ch):
            continue
        if ch.isspace():
            out.append(" ")
        elif is_chinese_char(ord(ch)):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out).lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def pre_tokenize(text):
    """BertPreTokenizer: split on whitespace; each punctuation character is a word of its own."""
    words, current = [], ""
    for ch in text:
        if ch.isspace() or is_punctuation(ch):
            if current:
                words.append(current)
            current = ""
            if not ch.isspace():
                words.append(ch)
        else:
            current += ch
    return words + [current] if current else words


class WordPieceTokenizer:
    # Special tokens written in the text are matched before normalization, as added tokens are.
    SPECIAL_SPLIT = re.compile("(" + "|".join(map(re.escape, SPECIAL_TOKENS)) + ")")

    def __init__(self, vocab):
        self.vocab = vocab  # token -> id

    @classmethod
    def build(cls, texts):
        """Special tokens, single characters, their ## continuations, then the data's words."""
        words, chars = set(), set(BASE_CHARS)
        for text in texts:
            for word in pre_tokenize(normalize(text)):
                words.add(word)
                chars.update(word)
        continuations = ["##" + ch for ch in sorted(chars) if not is_punctuation(ch)]
        tokens = SPECIAL_TOKENS + sorted(chars) + continuations + sorted(words - chars)
        return cls({token: i for i, token in enumerate(tokens)})

    def encode_word(self, word):
        """Greedy longest match first; a word with a piece not in the vocabulary is one [UNK]."""
        if len(word) > MAX_CHARS_PER_WORD:
            return [UNK_ID]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [UNK_ID]
        return ids

    def encode(self, text):
        """[CLS] tokens [SEP], truncated on the right to MAX_LENGTH as tokenizer.json says."""
        ids = []
        for part in self.SPECIAL_SPLIT.split(text):
            if part in SPECIAL_TOKENS:
                ids.append(self.vocab[part])
            else:
                for word in pre_tokenize(normalize(part)):
                    ids.extend(self.encode_word(word))
        return [CLS_ID] + ids[: MAX_LENGTH - 2] + [SEP_ID]

    def to_json(self):
        """tokenizer.json, in the format of Hugging Face tokenizers 0.13 and later."""
        cls_token = {"SpecialToken": {"id": "[CLS]", "type_id": 0}}
        sep_token = {"SpecialToken": {"id": "[SEP]", "type_id": 0}}
        return {
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": MAX_LENGTH,
                           "strategy": "LongestFirst", "stride": 0},
            "padding": None,
            "added_tokens": [
                {"id": self.vocab[token], "content": token, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": True}
                for token in SPECIAL_TOKENS
            ],
            "normalizer": {"type": "BertNormalizer", "clean_text": True,
                           "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [cls_token, {"Sequence": {"id": "A", "type_id": 0}}, sep_token],
                "pair": [cls_token, {"Sequence": {"id": "A", "type_id": 0}}, sep_token,
                         {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {
                    token: {"id": token, "ids": [self.vocab[token]], "tokens": [token]}
                    for token in ("[CLS]", "[SEP]")
                },
            },
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": MAX_CHARS_PER_WORD, "vocab": self.vocab},
        }


# ------------------------------------------------------------------------------------------------
# Model: a pre-norm transformer encoder in plain ops (no fused attention kernel), so that the ONNX
# graph is MatMul, Softmax and the like, which any runtime computes the same way.


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, dropout):
        super().__init__()
        # Plain ints, not read from tensor shapes, so that the export records them as constants.
        self.heads, self.head_dim = heads, dim // heads
        self.attention_norm = nn.LayerNorm(dim)
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        self.attention_out = nn.Linear(dim, dim)
        self.feed_forward_norm = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        )
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x):
        """[batch, length, dim] -> [batch, heads, length, head_dim]"""
        return x.reshape(x.shape[0], -1, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        h = self.attention_norm(x)
        q, k, v = (self.split_heads(layer(h)) for layer in (self.query, self.key, self.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask_bias
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).flatten(2)
        x = x + self.dropout(self.attention_out(context))
        return x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))


class TinyEncoderClassifier(nn.Module):
    def __init__(self, vocab_size, labels, dim, layers, heads, dropout=0.1):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD_ID)
        self.position_embedding = nn.Embedding(MAX_LENGTH, dim)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, dropout) for _ in range(layers))
        self.final_norm = nn.LayerNorm(dim)
        self.classifier = nn.Linear(dim, labels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input_ids, attention_mask):
        # Positions 0..length-1 from a cumulative sum: it exports with a dynamic length.
        positions = torch.ones_like(input_ids).cumsum(dim=1) - 1
        x = self.token_embedding(input_ids) + self.position_embedding(positions)
        x = self.dropout(x)
        mask = attention_mask.to(x.dtype)
        # Padding keys get a large negative score, so no token attends to them.
        mask_bias = ((1.0 - mask) * -1e9).unsqueeze(1).unsqueeze(2)  # [batch, 1, 1, length]
        for block in self.blocks:
            x = block(x, mask_bias)
        x = self.final_norm(x)
        # Mean over the real tokens, [CLS] and [SEP] included. The count is at least 1 so that a
        # row of padding alone pools to zeros, not NaN (maximum, not clamp, which exports with an
        # untyped constant).
        count = mask.sum(dim=1, keepdim=True)
        pooled = (x * mask.unsqueeze(2)).sum(dim=1) / torch.maximum(count, torch.ones_like(count))
        return self.classifier(pooled)


# ------------------------------------------------------------------------------------------------
# Training, export


def batch_tensors(tokenizer, texts):
    """input_ids and attention_mask, padded on the right to the longest text."""
    encoded = [tokenizer.encode(text) for text in texts]
    width = max(len(ids) for ids in encoded)
    input_ids = [ids + [PAD_ID] * (width - len(ids)) for ids in encoded]
    attention_mask = [[1] * len(ids) + [0] * (width - len(ids)) for ids in encoded]
    return torch.tensor(input_ids), torch.tensor(attention_mask)


def loss_fn(logits, labels):
    """Cross-entropy to the intent; out of scope (label -1) to the uniform distribution."""
    log_probs = logits.log_softmax(dim=-1)
    intent_loss = -log_probs.gather(1, labels.clamp(min=0).unsqueeze(1)).squeeze(1)
    uniform_loss = -log_probs.mean(dim=-1)
    return torch.where(labels >= 0, intent_loss, uniform_loss).mean()


def train(model, tokenizer, texts, labels, epochs, batch_size=16, lr=3e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    # Cosine decay to zero: big steps while the model is far off, small ones to settle.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    labels = torch.tensor(labels)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(texts)).split(batch_size):
            input_ids, attention_mask = batch_tensors(tokenizer, [texts[i] for i in batch])
            loss = loss_fn(model(input_ids, attention_mask), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        schedule.step()
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            print(f"epoch {epoch:3d}  loss {total / len(texts):.4f}")


@torch.no_grad()
def report(model, tokenizer, texts, labels):
    model.eval()
    probs = model(*batch_tensors(tokenizer, texts)).softmax(dim=-1)
    confidence, predicted = probs.max(dim=-1)
    labels = torch.tensor(labels)
    in_scope = labels >= 0
    accuracy = (predicted[in_scope] == labels[in_scope]).float().mean()
    print(f"training accuracy (in scope): {accuracy:.3f}")
    print(f"mean max probability: in scope {confidence[in_scope].mean():.3f}, out of scope "
          f"{confidence[~in_scope].mean():.3f} (uniform: {1 / probs.shape[1]:.3f})")


# Sentences whose ids and logits go into parity.json, for another runtime to reproduce.
PARITY_SENTENCES = [
    # training examples
    "i need a refill", "talk to a pharmacist", "yes that's right", "can you repeat that please",
    "never mind",
    # paraphrases
    "I'd like to get my prescription refilled.", "Could I speak with the pharmacist, please?",
    "Nope, that's not it!", "I don't think so... no.", "Say that one more time?",
    # out of scope, with digits, punctuation, accents and characters not in the vocabulary
    "what's the weather like in Zürich today", "tell me a joke",
    "Convert 25 dollars to euros: how much is that?", "Rx #4521-B — refill it, s'il vous plaît!",
    "CAFÉ crème, naïve résumé", "straße 👍 xylophone quixotically",
    # special tokens written out, no words at all, and more tokens than MAX_LENGTH
    "[CLS] yes [SEP]", "?", " \t\n ",
    "so i called yesterday about my blood pressure pills and nobody called me back, and now i'm "
    "almost out, so i'd like a refill of my prescription today if that's possible, or else let me "
    "talk to a pharmacist about what i should do, because my doctor is away until next week",
]


@torch.no_grad()
def parity(model, tokenizer):
    """Each parity sentence alone (batch 1, no padding), as a caller's utterance is served."""
    model.eval()
    rows = []
    for text in PARITY_SENTENCES:
        input_ids, attention_mask = batch_tensors(tokenizer, [text])
        logits = model(input_ids, attention_mask)[0]
        rows.append({"text": text, "input_ids": input_ids[0].tolist(),
                     "attention_mask": attention_mask[0].tolist(), "logits": logits.tolist()})
    return rows


def export(model, tokenizer, path):
    model.eval()
    # Two texts of different lengths: the trace sees padding, and no two dimensions are equal.
    example = batch_tensors(tokenizer, ["i need a refill", "tell me a joke about the weather"])
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        model, example, path, opset_version=14, do_constant_folding=True,
        input_names=["input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
    )


def write_json(directory, name, value):
    with open(os.path.join(directory, name), "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2, ensure_ascii=False)
        file.write("\n")


def hf_config(intent_names, vocab_size, args):
    """config.json as Hugging Face models have it: labels, sizes, problem type."""
    return {
        "architectures": ["TinyEncoderForSequenceClassification"],
        "model_type": "switchboard-tiny-encoder",
        "problem_type": "single_label_classification",
        "id2label": {str(i): name for i, name in enumerate(intent_names)},
        "label2id": {name: i for i, name in enumerate(intent_names)},
        "vocab_size": vocab_size,
        "hidden_size": args.dim,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "intermediate_size": 4 * args.dim,
        "hidden_act": "gelu",
        "max_position_embeddings": MAX_LENGTH,
        "pad_token_id": PAD_ID,
        "torch_dtype": "float32",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="training data (intents, outOfScope)")
    parser.add_argument("--out", required=True, help="folder to write the model into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    args = parser.parse_args()
    if args.dim % args.heads != 0:
        parser.error("--dim must be a multiple of --heads")

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # reproducible sums; the model is too small to gain from threads

    with open(args.data, encoding="utf-8") as file:
        data = json.load(file)
    intent_names = list(data["intents"])
    if len(intent_names) < 2:
        parser.error("the data needs at least two intents")
    texts, labels = [], []
    for label, name in enumerate(intent_names):
        texts += data["intents"][name]
        labels += [label] * len(data["intents"][name])
    out_of_scope = data.get("outOfScope", [])
    texts += out_of_scope
    labels += [-1] * len(out_of_scope)

    tokenizer = WordPieceTokenizer.build(texts)
    model = TinyEncoderClassifier(
        len(tokenizer.vocab), len(intent_names), args.dim, args.layers, args.heads
    )
    print(f"{len(intent_names)} intents, {len(texts)} examples ({len(out_of_scope)} out of "
          f"scope); {len(tokenizer.vocab)} tokens, {sum(p.numel() for p in model.parameters())} "
          "parameters")

    started = time.monotonic()
    train(model, tokenizer, texts, labels, args.epochs)
    print(f"trained in {time.monotonic() - started:.1f} s")
    report(model, tokenizer, texts, labels)

    os.makedirs(args.out, exist_ok=True)
    export(model, tokenizer, os.path.join(args.out, "model.onnx"))
    write_json(args.out, "tokenizer.json", tokenizer.to_json())
    # tokenizer_config.json: what transformers' AutoTokenizer and tokenizers.js read beside it.
    write_json(args.out, "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "do_lower_case": True,
        "model_max_length": MAX_LENGTH, "unk_token": "[UNK]", "pad_token": "[PAD]",
        "cls_token": "[CLS]", "sep_token": "[SEP]", "clean_up_tokenization_spaces": True,
    })
    write_json(args.out, "config.json", hf_config(intent_names, len(tokenizer.vocab), args))
    write_json(args.out, "parity.json", parity(model, tokenizer))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
