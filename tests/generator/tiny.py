"""Tiny, randomly initialised text-to-video pipelines built offline (no hub access).

Tokenizers are built locally: T5/UMT5/Llama ones train on a few sentences, the CLIP one is the
byte-level alphabet with no merges. Each builder returns (pipeline, call kwargs that fit it).
"""

from __future__ import annotations

import torch

CORPUS = ["a red circle moving right on a blue background", "a small cat walks", "video of a dog"] * 4


def t5_tokenizer():
    from transformers import T5Tokenizer

    return T5Tokenizer(extra_ids=0).train_new_from_iterator(CORPUS, vocab_size=64)


def clip_tokenizer(tmp_dir):
    """CLIP BPE over the 256 byte symbols, with and without the end-of-word mark, and no merges."""
    import json

    from transformers import CLIPTokenizer

    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    symbols = [chr(b) for b in printable] + [chr(256 + i) for i in range(256 - len(printable))]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for s in symbols:
        vocab.setdefault(s, len(vocab))
    for s in symbols:
        vocab.setdefault(s + "</w>", len(vocab))
    (tmp_dir / "vocab.json").write_text(json.dumps(vocab))
    (tmp_dir / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(vocab=str(tmp_dir / "vocab.json"), merges=str(tmp_dir / "merges.txt"), model_max_length=16)


def _t5_encoder(vocab: int, umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    kw = dict(vocab_size=vocab, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
              relative_attention_num_buckets=8, decoder_start_token_id=0)
    return UMT5EncoderModel(UMT5Config(**kw)) if umt5 else T5EncoderModel(T5Config(**kw))


def wan(tmp_dir):
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    tok = t5_tokenizer()
    pipe = WanPipeline(
        tokenizer=tok,
        text_encoder=_t5_encoder(len(tok), umt5=True),
        vae=AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                             temperal_downsample=[False, True, True]),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                          in_channels=16, out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32,
                                          num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                                          rope_max_seq_len=32),
    )
    return pipe, dict(num_frames=5, height=32, width=32, steps=2)


def cogvideox(tmp_dir):
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    tok = t5_tokenizer()
    pipe = CogVideoXPipeline(
        tokenizer=tok,
        text_encoder=_t5_encoder(len(tok)),
        vae=AutoencoderKLCogVideoX(in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
                                   up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                   latent_channels=4, layers_per_block=1, norm_num_groups=2,
                                   temporal_compression_ratio=4),
        transformer=CogVideoXTransformer3DModel(num_attention_heads=4, attention_head_dim=8, in_channels=4,
                                                out_channels=4, time_embed_dim=2, text_embed_dim=32, num_layers=1,
                                                sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
                                                temporal_compression_ratio=4, max_text_seq_length=226),
        scheduler=CogVideoXDDIMScheduler(),
    )
    return pipe, dict(num_frames=5, height=16, width=16, steps=2)


def ltx(tmp_dir):
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    tok = t5_tokenizer()
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=False,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=_t5_encoder(len(tok)),
        tokenizer=tok,
        transformer=LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                               num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                               num_layers=1, caption_channels=32),
    )
    return pipe, dict(num_frames=9, height=32, width=32, steps=2)


def text_to_video_sd(tmp_dir):
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tok = clip_tokenizer(tmp_dir)
    pipe = TextToVideoSDPipeline(
        vae=AutoencoderKL(block_out_channels=[8], in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"],
                          up_block_types=["UpDecoderBlock2D"], latent_channels=4, sample_size=32, norm_num_groups=2),
        text_encoder=CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8,
                                                  intermediate_size=16, num_attention_heads=2, num_hidden_layers=2,
                                                  vocab_size=len(tok), projection_dim=8)),
        tokenizer=tok,
        unet=UNet3DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4,
                                  out_channels=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                                  up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=8,
                                  attention_head_dim=4, norm_num_groups=2),
        scheduler=DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                clip_sample=False, set_alpha_to_one=False),
    )
    return pipe, dict(num_frames=4, height=32, width=32, steps=2)


BUILDERS = {"wan": wan, "cogvideox": cogvideox, "ltx": ltx, "text_to_video_sd": text_to_video_sd}


def mochi(tmp_dir):
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiPipeline, MochiTransformer3DModel

    torch.manual_seed(0)
    tok = t5_tokenizer()
    transformer = MochiTransformer3DModel(patch_size=2, num_attention_heads=2, attention_head_dim=8, num_layers=2,
                                          pooled_projection_dim=16, in_channels=12, out_channels=None,
                                          qk_norm="rms_norm", text_embed_dim=32, time_embed_dim=4,
                                          activation_fn="swiglu", max_sequence_length=16)
    pipe = MochiPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=AutoencoderKLMochi(latent_channels=12, out_channels=3, encoder_block_out_channels=(32, 32, 32, 32),
                               decoder_block_out_channels=(32, 32, 32, 32), layers_per_block=(1, 1, 1, 1, 1)),
        text_encoder=_t5_encoder(len(tok)),
        tokenizer=tok,
        transformer=transformer,
    )
    return pipe, dict(num_frames=7, height=16, width=16, steps=2)


def animatediff(tmp_dir):
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tok = clip_tokenizer(tmp_dir)
    pipe = AnimateDiffPipeline(
        vae=AutoencoderKL(block_out_channels=[8], in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"],
                          up_block_types=["UpDecoderBlock2D"], latent_channels=4, norm_num_groups=2),
        text_encoder=CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8,
                                                  intermediate_size=16, num_attention_heads=2, num_hidden_layers=2,
                                                  vocab_size=len(tok), projection_dim=8)),
        tokenizer=tok,
        unet=UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4,
                                  out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=8,
                                  attention_head_dim=4, norm_num_groups=2),
        motion_adapter=MotionAdapter(block_out_channels=(8, 16), motion_layers_per_block=1, motion_norm_num_groups=2,
                                     motion_num_attention_heads=2),
        scheduler=DDIMScheduler(beta_schedule="linear", beta_start=0.00085, beta_end=0.012, clip_sample=False),
    )
    return pipe, dict(num_frames=4, height=32, width=32, steps=2)


BUILDERS.update(mochi=mochi, animatediff=animatediff)


def llama_tokenizer():
    from transformers import LlamaTokenizer

    tok = LlamaTokenizer().train_new_from_iterator(CORPUS, vocab_size=80)
    tok.pad_token = tok.eos_token
    return tok


def hunyuan(tmp_dir):
    from diffusers import (AutoencoderKLHunyuanVideo, FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline,
                           HunyuanVideoTransformer3DModel)
    from transformers import CLIPTextConfig, CLIPTextModel, LlamaConfig, LlamaModel

    torch.manual_seed(0)
    tok, tok2 = llama_tokenizer(), clip_tokenizer(tmp_dir)
    pipe = HunyuanVideoPipeline(
        text_encoder=LlamaModel(LlamaConfig(hidden_size=16, intermediate_size=37, num_attention_heads=4,
                                            num_hidden_layers=2, vocab_size=len(tok), pad_token_id=0)),
        tokenizer=tok,
        transformer=HunyuanVideoTransformer3DModel(in_channels=4, out_channels=4, num_attention_heads=2,
                                                   attention_head_dim=10, num_layers=1, num_single_layers=1,
                                                   num_refiner_layers=1, patch_size=1, patch_size_t=1,
                                                   guidance_embeds=True, text_embed_dim=16, pooled_projection_dim=8,
                                                   rope_axes_dim=(2, 4, 4)),
        vae=AutoencoderKLHunyuanVideo(in_channels=3, out_channels=3, latent_channels=4,
                                      down_block_types=("HunyuanVideoDownBlock3D",) * 4,
                                      up_block_types=("HunyuanVideoUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                      layers_per_block=1, act_fn="silu", norm_num_groups=4,
                                      spatial_compression_ratio=8, temporal_compression_ratio=4,
                                      mid_block_add_attention=True),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8,
                                                    intermediate_size=16, num_attention_heads=2, num_hidden_layers=2,
                                                    vocab_size=len(tok2), projection_dim=8)),
        tokenizer_2=tok2,
    )
    return pipe, dict(num_frames=5, height=16, width=16, steps=2)


BUILDERS.update(hunyuan=hunyuan)
