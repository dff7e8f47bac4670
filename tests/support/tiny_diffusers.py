"""A tiny random-weight Stable Diffusion pipeline saved to a folder, as diffusers' own tests build one.

diffusers' get_dummy_components sizes with a hand-written CLIP tokenizer: 64x64 images in about
0.3 s on CPU, loaded through the real from_pretrained path.
"""

from __future__ import annotations

import json

VOCAB = ["l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "lo", "l</w>", "w</w>", "r</w>",
         "t</w>", "low</w>", "er</w>", "lowest</w>", "newer</w>", "wider", "<unk>",
         "<|startoftext|>", "<|endoftext|>"]


def tiny_components(folder, safety_checker: bool = False) -> dict:
    """diffusers' get_dummy_components sizes, with a hand-written CLIP tokenizer."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(VOCAB)}))
    (folder / "merges.txt").write_text("#version: 0.2\nl o\nlo w</w>\ne r</w>\n")
    torch.manual_seed(0)
    parts = {
        "unet": UNet2DConditionModel(
            block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
            out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32),
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
