"""Oracle: tiny random Llama-family checkpoints from transformers and their logits.

Every case "<id>" is a Hugging Face model directory <out>/<id>/ (config.json +
model.safetensors, written by save_pretrained) and, in llama_models.safetensors,
"<id>.input_ids" (int64 [2, 24]) and "<id>.logits" (the model's output for them, in the model's
dtype). The json case records the model_type, the dtype, HF's named_parameters (duplicates
kept, so a tied lm_head.weight is listed), the names of its nn.Linear modules and, for the
llama3-rope case, which case has the same weights with default RoPE.

Parameters are re-drawn after construction (norm weights around 1, biases non-zero) so that a
norm or bias the C++ side ignored would change the logits. fp32 models run eager attention; the
bf16 one runs SDPA, the kernel the C++ side uses, so that only bf16 rounding of the surrounding
ops differs.
"""
import warnings

import torch
import transformers
from _common import OracleWriter
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

warnings.filterwarnings("ignore")
transformers.utils.logging.disable_progress_bar()
torch.set_num_threads(1)

W = OracleWriter("llama_models")

BATCH, SEQ = 2, 24
SIZES = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=128, max_position_embeddings=256,
             rms_norm_eps=1e-5)
LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}

# id → (config class, model class, config overrides, weight seed, dtype, attention)
CASES = {
    "llama": (LlamaConfig, LlamaForCausalLM, {}, 1, torch.float32, "eager"),
    # Same weights as "llama"; with head_dim 16 and theta 1e4 the wavelengths 6.3, 20, 63, 199..
    # fall in all three llama3 bands (kept, smoothed, divided by factor) for a context of 64.
    "llama3_rope": (LlamaConfig, LlamaForCausalLM, {"rope_scaling": LLAMA3_ROPE}, 1,
                    torch.float32, "eager"),
    "llama_bias": (LlamaConfig, LlamaForCausalLM,
                   {"attention_bias": True, "mlp_bias": True, "rope_theta": 500.0}, 2,
                   torch.float32, "eager"),
    "llama_tied": (LlamaConfig, LlamaForCausalLM, {"tie_word_embeddings": True}, 3,
                   torch.float32, "eager"),
    "llama_mha_bf16": (LlamaConfig, LlamaForCausalLM, {"num_key_value_heads": 4}, 4,
                       torch.bfloat16, "sdpa"),
    # A window shorter than the sequence, so the sliding mask matters.
    "mistral": (MistralConfig, MistralForCausalLM, {"sliding_window": 8}, 5, torch.float32,
                "eager"),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, {"rope_theta": 1e6}, 6, torch.float32, "eager"),
    # Layer 1 slides (i >= max_window_layers), layer 0 attends fully.
    "qwen2_sliding": (Qwen2Config, Qwen2ForCausalLM,
                      {"use_sliding_window": True, "sliding_window": 6, "max_window_layers": 1},
                      7, torch.float32, "eager"),
    # head_dim 32 ≠ hidden/heads, as in real Qwen3 models.
    "qwen3": (Qwen3Config, Qwen3ForCausalLM, {"head_dim": 32}, 8, torch.float32, "eager"),
}


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * noise)
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)
            elif "embed_tokens" in name:
                p.copy_(noise)
            else:
                p.copy_(noise * p.shape[-1] ** -0.5)


# The sliding cases prove something only if their window changes the logits: each is compared
# with its full-attention twin (same weights and input).
FULL_ATTENTION_TWINS = {"mistral": {"sliding_window": None},
                        "qwen2_sliding": {"use_sliding_window": False}}


def run(config_cls, model_cls, overrides, seed, dtype, attention, save_as=None):
    config = config_cls(**{**SIZES, **overrides}, attn_implementation=attention)
    torch.manual_seed(0)
    model = model_cls(config).eval()
    randomize(model, seed)
    model = model.to(dtype)
    if save_as is not None:
        model.save_pretrained(f"{W.out}/{save_as}", safe_serialization=True)
    ids = torch.randint(0, SIZES["vocab_size"], (BATCH, SEQ),
                        generator=torch.Generator().manual_seed(100 + seed))
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    return model, config, ids, logits


def build(cid, config_cls, model_cls, overrides, seed, dtype, attention):
    model, config, ids, logits = run(config_cls, model_cls, overrides, seed, dtype, attention,
                                     save_as=cid)
    case = dict(id=cid, model_type=config.model_type, dtype=str(dtype).replace("torch.", ""),
                parameters=[n for n, _ in model.named_parameters(remove_duplicate=False)],
                modules=[[n, type(m).__name__] for n, m in model.named_modules()])
    return case, ids, logits


def main():
    logits_by_id = {}
    for cid, spec in CASES.items():
        case, ids, logits = build(cid, *spec)
        logits_by_id[cid] = logits
        if cid == "llama3_rope":
            case["same_weights_default_rope"] = "llama"
        if cid in FULL_ATTENTION_TWINS:
            config_cls, model_cls, overrides, *rest = spec
            *_, full_logits = run(config_cls, model_cls,
                                  {**overrides, **FULL_ATTENTION_TWINS[cid]}, *rest)
            assert not torch.allclose(logits, full_logits, atol=1e-2), cid
        W.add(case, input_ids=ids, logits=logits)
    # The llama3 case proves something only if its scaling changes the logits.
    assert not torch.allclose(logits_by_id["llama3_rope"], logits_by_id["llama"], atol=1e-2)
    W.write()


if __name__ == "__main__":
    main()
