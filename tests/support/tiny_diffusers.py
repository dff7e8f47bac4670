"""A tiny random-weight Stable Diffusion pipeline saved to a folder, as diffusers' own tests build one.

diffusers' get_dummy_components sizes with a hand-written CLIP tokenizer: 64x64 images in about
0.3 s on CPU, loaded through the real from_pretrained path.
"""

from __future__ import annotations

import json

VOCAB = ["l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "lo", "l</w>", "w</w>", "r</w>",
         "t</w>", "low</w>", "er</w>", "lowest</w>", "newer</w>", "wider", "<unk>",
         "<|startoftext|>", "<|endoftext|>"]


def tiny_unet():
    """The tiny UNet (diffusers' get_dummy_components sizes), random weights."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)


def tiny_components(folder, safety_checker: bool = False) -> dict:
    """diffusers' get_dummy_components sizes, with a hand-written CLIP tokenizer."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(VOCAB)}))
    (folder / "merges.txt").write_text("#version: 0.2\nl o\nlo w</w>\ne r</w>\n")
    torch.manual_seed(0)
    parts = {
        "unet": tiny_unet(),
        "vae": AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                             down_block_types=["DownEncoderBlock2D"] * 2,
                             up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4),
        "text_encoder": CLIPTextModel(CLIPTextConfig(
            bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=32, intermediate_size=37,
            num_attention_heads=4, num_hidden_layers=5, vocab_size=1000)),
        "tokenizer": CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                                   model_max_length=77),
        "scheduler": EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                            beta_schedule="scaled_linear", steps_offset=1),
        "safety_checker": None, "feature_extractor": None}
    if safety_checker:
        from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
        from transformers import CLIPConfig, CLIPImageProcessor

        small = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2)
        parts["safety_checker"] = StableDiffusionSafetyChecker(CLIPConfig(
            text_config=dict(small, vocab_size=1000, bos_token_id=0, eos_token_id=2, pad_token_id=1),
            vision_config=dict(small, image_size=32, patch_size=8), projection_dim=32))
        parts["feature_extractor"] = CLIPImageProcessor(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return parts


def save_tiny_pipeline(folder, safety_checker: bool = False) -> str:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(**tiny_components(folder / "src", safety_checker),
                                   requires_safety_checker=safety_checker)
    pipe.save_pretrained(folder / "model")
    return str(folder / "model")


def save_tiny_ip_adapter(folder, weight_name: str = "ip_adapter.safetensors") -> str:
    """A tiny random-weight IP-Adapter for the tiny pipeline's UNet, laid out as hub adapters
    are: `<folder>/<weight_name>` (keys "image_proj.*" and "ip_adapter.*", as diffusers'
    create_ip_adapter_state_dict makes them) and `<folder>/image_encoder` (a tiny
    CLIPVisionModelWithProjection). Load it with subfolder "" and that weight name."""
    import torch
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(1)
    unet = tiny_unet()
    block_out, cross_dim = unet.config.block_out_channels, unet.config.cross_attention_dim
    weights = {}
    # One key id per cross-attention processor, in the UNet's order (diffusers counts 1, 3,
    # 5, ...); self-attention ("attn1") takes no image weights.
    cross = [name for name in unet.attn_processors if not name.endswith("attn1.processor")]
    for key_id, name in zip(range(1, 2 * len(cross), 2), cross):
        if name.startswith("mid_block"):
            hidden = block_out[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(block_out))[int(name[len("up_blocks.")])]
        else:
            hidden = block_out[int(name[len("down_blocks.")])]
        state = IPAdapterAttnProcessor(hidden_size=hidden, cross_attention_dim=cross_dim,
                                       scale=1.0).state_dict()
        weights[f"ip_adapter.{key_id}.to_k_ip.weight"] = state["to_k_ip.0.weight"]
        weights[f"ip_adapter.{key_id}.to_v_ip.weight"] = state["to_v_ip.0.weight"]
    projection = ImageProjection(cross_attention_dim=cross_dim, image_embed_dim=cross_dim,
                                 num_image_text_embeds=4).state_dict()
    weights.update({"image_proj.proj.weight": projection["image_embeds.weight"],
                    "image_proj.proj.bias": projection["image_embeds.bias"],
                    "image_proj.norm.weight": projection["norm.weight"],
                    "image_proj.norm.bias": projection["norm.bias"]})
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(folder / weight_name))
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        image_size=32, patch_size=8, projection_dim=cross_dim))
    encoder.save_pretrained(folder / "image_encoder")
    return str(folder)
