#!/usr/bin/env python3
"""facetrain's training step written as an ordinary PyTorch script, to measure facetrain against.

The network, losses, augmentation and optimizer of `facetrain train`, built from the YAML that
`facetrain train --preset P --dump-config` prints (written from facetrain's
src/facetrain/model/face_swap_model.cpp, train/losses.cpp, train/augment.cpp and train/trainer.cpp;
parameter names are facetrain's, so one state dict fits both):

    facetrain_peer.py describe --config P.yaml
        parameter count, named parameter shapes and the analytic forward FLOPs per image
        (torch.utils.flop_counter over one training forward), as JSON
    facetrain_peer.py check --config P.yaml --reference R.pt
        R.pt from bench/peers/peer_reference (facetrain's own step on synthetic faces: initial
        weights, raw and augmented batch, loss terms, gradient norm, the loss after one AdamW
        step): one JSON line per check, {"check", "ok", "ours", "facetrain", ...}; exit 1 if any
        check fails
    facetrain_peer.py bench --config P.yaml [--batch-size B] [--mode eager|compile] [--threads T]
                            [--steps N] [--warmup N] [--profile FILE]
        images/s of the whole step (sampling, augmentation, forward, losses, backward, gradient
        clipping, AdamW) on synthetic uint8 faces, as facetrain_bench measures facetrain's

torch 2.11 (the project's venv). CPU or CUDA (--device).
"""
import argparse
import json
import math
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

# ---- configuration ------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2 floats: facetrain writes 5e-05, which YAML 1.1 (PyYAML) would read as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+"
               r"(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def load_config(path):
    """The dump-config YAML, plus its comment lines (# parameters: N, # forward GFLOP ...)."""
    text = open(path).read()
    config = yaml.load(text, Loader=_Loader)
    notes = {}
    for line in text.splitlines():
        if line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            notes[key.strip()] = value.strip()
    config["_notes"] = notes
    return config


# ---- the network (face_swap_model.cpp) ----------------------------------------------------------

SLOPE = 0.1            # after downscale / upscale convolutions
RESIDUAL_SLOPE = 0.2   # inside and after residual blocks
PIXEL_NORM_EPS = 1e-6


def conv(in_ch, out_ch, kernel, stride=1):
    layer = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=True)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def dense(in_features, out_features):
    layer = nn.Linear(in_features, out_features, bias=True)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Upscale(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv = conv(in_ch, 4 * out_ch, 3)

    def forward(self, x):
        return F.pixel_shuffle(F.leaky_relu(self.conv(x), SLOPE, inplace=True), 2)


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = conv(ch, ch, 3)
        self.conv2 = conv(ch, ch, 3)

    def forward(self, x):
        y = F.leaky_relu(self.conv1(x), RESIDUAL_SLOPE, inplace=True)
        y = self.conv2(y)
        return F.leaky_relu(x + y, RESIDUAL_SLOPE, inplace=True)


class Encoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.pixel_norm = m.get("pixel_norm_latent", True)  # SAEHD -U
        in_ch = 3
        for i in range(4):
            out_ch = m["e_dims"] << i
            setattr(self, f"down{i}", conv(in_ch, out_ch, 5, 2))
            in_ch = out_ch

    def forward(self, x):
        for i in range(4):
            x = F.leaky_relu(getattr(self, f"down{i}")(x), SLOPE, inplace=True)
        x = x.flatten(1)
        if not self.pixel_norm:
            return x
        return x * torch.rsqrt(x.square().mean(1, keepdim=True) + PIXEL_NORM_EPS)


class Inter(nn.Module):
    def __init__(self, m, out_ch):
        super().__init__()
        r = m["resolution"]
        self.out_ch, self.bottleneck_px = out_ch, r // (32 if m.get("double_resolution", True) else 16)  # SAEHD -D
        self.dense1 = dense((r // 16) * (r // 16) * 8 * m["e_dims"], m["ae_dims"])
        self.dense2 = dense(m["ae_dims"], self.bottleneck_px * self.bottleneck_px * out_ch)
        self.upscale = Upscale(out_ch, out_ch)

    def forward(self, code):
        x = self.dense2(self.dense1(code))
        x = x.reshape(x.size(0), self.out_ch, self.bottleneck_px, self.bottleneck_px)
        return self.upscale(x)


class Decoder(nn.Module):
    def __init__(self, m, in_ch):
        super().__init__()
        d, dm = m["d_dims"], m["d_mask_dims"]
        # SAEHD -D: a sub-pixel RGB head from R/2 and four mask upscales; without, a 1x1 head at R, three.
        self.shuffle_rgb = m.get("double_resolution", True)
        ch = in_ch
        for i, w in enumerate((8 * d, 4 * d, 2 * d)):
            setattr(self, f"up{i}", Upscale(ch, w))
            setattr(self, f"res{i}", ResidualBlock(w))
            ch = w
        self.rgb_head = conv(ch, 12, 3) if self.shuffle_rgb else conv(ch, 3, 1)
        ch = in_ch
        self.mask_upscales = 4 if self.shuffle_rgb else 3
        for i, w in enumerate((8 * dm, 4 * dm, 2 * dm, dm)[:self.mask_upscales]):
            setattr(self, f"mask_up{i}", Upscale(ch, w))
            ch = w
        self.mask_head = conv(ch, 1, 1)

    def forward(self, z):
        x = z
        for i in range(3):
            x = getattr(self, f"res{i}")(getattr(self, f"up{i}")(x))
        x = self.rgb_head(x)
        rgb = torch.sigmoid(F.pixel_shuffle(x, 2) if self.shuffle_rgb else x)
        m = z
        for i in range(self.mask_upscales):
            m = getattr(self, f"mask_up{i}")(m)
        return rgb, torch.sigmoid(self.mask_head(m))


class FaceSwapNet(nn.Module):
    """df: encoder, inter, decoder_actor, decoder_double; liae: encoder, inter_ab, inter_b, decoder."""

    def __init__(self, m):
        super().__init__()
        self.liae = m["architecture"] == "liae"
        ae = m["ae_dims"]
        self.encoder = Encoder(m)
        if self.liae:
            self.inter_ab = Inter(m, 2 * ae)
            self.inter_b = Inter(m, 2 * ae)
            self.decoder = Decoder(m, 4 * ae)
        else:
            self.inter = Inter(m, ae)
            self.decoder_actor = Decoder(m, ae)
            self.decoder_double = Decoder(m, ae)

    def forward(self, actor, double):
        """The training forward: both identities through one encoder pass.
        Returns ((actor_rgb, actor_mask), (double_rgb, double_mask))."""
        na = actor.size(0)
        code = self.encoder(torch.cat([actor, double], 0))
        if not self.liae:
            z = self.inter(code)
            return self.decoder_actor(z[:na]), self.decoder_double(z[na:])
        ab = self.inter_ab(code)
        b = self.inter_b(code[na:])
        ab_actor, ab_double = ab[:na], ab[na:]
        z = torch.cat([torch.cat([ab_actor, ab_actor], 1), torch.cat([ab_double, b], 1)], 0)
        rgb, mask = self.decoder(z)
        return (rgb[:na], mask[:na]), (rgb[na:], mask[na:])


# ---- losses (losses.cpp) ------------------------------------------------------------------------

SSIM_C1 = 0.01 ** 2
SSIM_C2 = 0.03 ** 2
MAX_RASTER_PX = 128


def gaussian_1d(size, sigma, like):
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2.0
    g = torch.exp(x.square() * (-0.5 / (sigma * sigma)))
    return g / g.sum()


def separable_blur(x, g, same):
    c, k = x.size(1), g.size(0)
    horizontal = g.view(1, 1, 1, k).expand(c, 1, 1, k).contiguous()
    vertical = g.view(1, 1, k, 1).expand(c, 1, k, 1).contiguous()
    pad = k // 2 if same else 0
    y = F.conv2d(x, horizontal, groups=c, padding=(0, pad))
    return F.conv2d(y, vertical, groups=c, padding=(pad, 0))


def face_weight(target_mask):
    sigma = max(1.0, target_mask.size(2) / 64.0)
    size = 2 * int(math.ceil(3.0 * sigma)) + 1
    g = gaussian_1d(size, sigma, target_mask)
    return separable_blur(target_mask, g, True).clamp(0.0, 0.5) * 2.0


def dssim_window_px(resolution):
    return max(3, int(resolution / 11.6))


def dssim(a, b, window_px, sigma=1.5):
    c = a.size(1)
    g = gaussian_1d(window_px, sigma, a)
    moments = separable_blur(torch.cat([a, b, a * a, b * b, a * b], 1), g, False)
    mu_a, mu_b, m_aa, m_bb, m_ab = moments.split(c, 1)
    mu_ab = mu_a * mu_b
    mu_aa = mu_a.square()
    mu_bb = mu_b.square()
    var_a = m_aa - mu_aa
    var_b = m_bb - mu_bb
    cov = m_ab - mu_ab
    ssim = ((2.0 * mu_ab + SSIM_C1) * (2.0 * cov + SSIM_C2)) / ((mu_aa + mu_bb + SSIM_C1) * (var_a + var_b + SSIM_C2))
    return (1.0 - ssim.mean()) * 0.5


def multi_window_dssim(a, b, multi_window_from_px):
    resolution = a.size(2)
    wide = dssim_window_px(resolution)
    if resolution < multi_window_from_px:
        return dssim(a, b, wide)
    narrow = max(3, int(resolution / 23.2))
    return 0.5 * (dssim(a, b, wide) + dssim(a, b, narrow))


def eyes_mouth_weight_map(landmarks, height, width):
    lm = landmarks.float()
    gh = min(height, MAX_RASTER_PX)
    gw = max(1, (width * gh + height // 2) // height)
    py = ((torch.arange(gh, dtype=lm.dtype, device=lm.device) + 0.5) * (height / gh) - 0.5).view(1, 1, gh, 1)
    px = ((torch.arange(gw, dtype=lm.dtype, device=lm.device) + 0.5) * (width / gw) - 0.5).view(1, 1, 1, gw)
    polygons = ((36, 6), (42, 6), (48, 12))  # left eye, right eye, outer lips
    starts = [lm[:, first:first + count] for first, count in polygons]
    ends = [torch.roll(v, -1, 1) for v in starts]
    a, b = torch.cat(starts, 1), torch.cat(ends, 1)
    ax, ay = a[:, :, 0, None, None], a[:, :, 1, None, None]
    bx, by = b[:, :, 0, None, None], b[:, :, 1, None, None]
    straddles = (ay > py) != (by > py)
    dy = by - ay
    safe_dy = torch.where(dy == 0, torch.ones_like(dy), dy)
    x_cross = ax + (py - ay) * (bx - ax) / safe_dy
    crossings = (straddles & (px < x_cross)).float()
    inside, edge = [], 0
    for _, count in polygons:
        inside.append(torch.fmod(crossings[:, edge:edge + count].sum(1, keepdim=True), 2.0))
        edge += count
    weight = torch.cat(inside, 1).max(1, keepdim=True)[0]
    radius = max(1, (gh + 16) // 32)
    weight = F.max_pool2d(weight, 2 * radius + 1, stride=1, padding=radius)
    if gh != height or gw != width:
        weight = F.interpolate(weight, size=(height, width), mode="bilinear", align_corners=False)
    return weight


LOSS_TERMS = ("dssim", "mse", "l1", "eyes_mouth", "mask", "total")


def reconstruction_loss(pred, pred_mask, target, target_mask, eyes_mouth, w):
    diff = pred - target
    t = {}
    if w["masked"]:
        face = face_weight(target_mask)
        t["dssim"] = multi_window_dssim(pred * face, target * face, w["multi_window_from_px"])
        t["mse"] = (diff.square() * face).mean()
        t["l1"] = (diff.abs() * face).mean()
    else:
        t["dssim"] = multi_window_dssim(pred, target, w["multi_window_from_px"])
        t["mse"] = diff.square().mean()
        t["l1"] = diff.abs().mean()
    if eyes_mouth is not None and w["masked"]:
        eyes_mouth = eyes_mouth * target_mask  # only where the face is visible (losses.cpp, issue 24)
    t["eyes_mouth"] = (diff.abs() * eyes_mouth).mean() if eyes_mouth is not None else torch.zeros((), device=pred.device)
    t["mask"] = (pred_mask - target_mask).square().mean()
    t["total"] = (w["dssim_weight"] * t["dssim"] + w["mse_weight"] * t["mse"] + w["l1_weight"] * t["l1"] +
                  w["eyes_mouth_weight"] * t["eyes_mouth"] + w["mask_weight"] * t["mask"])
    return t


def losses_for(out, batch, loss_config):
    rgb, mask = out
    r = batch["target"].size(2)
    em = eyes_mouth_weight_map(batch["landmarks"], r, r) if loss_config["eyes_mouth_weight"] > 0 else None
    return reconstruction_loss(rgb.float(), mask.float(), batch["target"], batch["target_mask"], em, loss_config)


def step_loss(model, a, d, loss_config):
    """Forward of both identities and the summed total loss (what backward() starts from)."""
    out_a, out_d = model(a["input"], d["input"])
    la = losses_for(out_a, a, loss_config)
    ld = losses_for(out_d, d, loss_config)
    return la["total"] + ld["total"], la, ld, out_a, out_d


# ---- augmentation (augment.cpp) -----------------------------------------------------------------

FLIP, ROTATION, SCALE, SHIFT_X, SHIFT_Y, BRIGHTNESS, CONTRAST, GAIN_R = 0, 1, 2, 3, 4, 5, 6, 7
COLUMNS = 10
WARP_CELL_FRACTION = 0.24


def symmetric(u):
    return u * 2.0 - 1.0


class Augmenter:
    """Batched augmentation with its own seeded generator, drawing what facetrain's Augmenter draws."""

    def __init__(self, c, seed, device):
        self.c = c
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)

    @torch.no_grad()
    def __call__(self, images, masks, landmarks):
        c, g = self.c, self.generator
        batch, size = images.size(0), images.size(2)
        opts = dict(dtype=torch.float32, device=images.device)
        u = torch.rand((batch, COLUMNS), generator=g, **opts)
        noise = torch.randn((batch, 2, c["warp_grid"], c["warp_grid"]), generator=g, **opts)
        do_flip = c["flip"] and c["flip_probability"] > 0
        do_affine = c["affine"] and (c["rotation_deg"] > 0 or c["scale"] > 0 or c["shift"] > 0)
        do_warp = c["random_warp"] and c["warp_strength"] > 0
        do_color = c["color"] and (c["brightness"] > 0 or c["contrast"] > 0 or c["channel_gain"] > 0)

        image = images.float().div_(255.0)
        mask = masks.float().div_(255.0)
        points = landmarks.float()
        if do_flip:
            flipped = u[:, FLIP] < c["flip_probability"]
            f4 = flipped.view(batch, 1, 1, 1)
            image = torch.where(f4, image.flip(3), image)
            mask = torch.where(f4, mask.flip(3), mask)
            x = points[:, :, 0]
            points = torch.stack([torch.where(flipped.view(batch, 1), (size - 1) - x, x), points[:, :, 1]], 2)
        grid = None
        if do_affine or do_warp:
            rot = c["rotation_deg"] * math.pi / 180.0 if do_affine else 0.0
            scale = c["scale"] if do_affine else 0.0
            shift = 2.0 * c["shift"] if do_affine else 0.0
            angle = symmetric(u[:, ROTATION]) * rot
            zoom = 1.0 + symmetric(u[:, SCALE]) * scale
            tx = symmetric(u[:, SHIFT_X]) * shift
            ty = symmetric(u[:, SHIFT_Y]) * shift
            cos_z, sin_z = torch.cos(angle) / zoom, torch.sin(angle) / zoom
            theta = torch.stack([cos_z, -sin_z, tx, sin_z, cos_z, ty], 1).view(batch, 2, 3)
            grid = F.affine_grid(theta, [batch, 3, size, size], align_corners=False)
        target, target_mask = image, mask
        if do_affine:
            target = F.grid_sample(image, grid, mode="bicubic", padding_mode="border", align_corners=False).clamp_(0.0, 1.0)
            target_mask = F.grid_sample(mask, grid, mode="bilinear", padding_mode="border", align_corners=False)
            n = float(size)
            bx = (points[:, :, 0] * 2.0 + 1.0) / n - 1.0 - tx.view(batch, 1)
            by = (points[:, :, 1] * 2.0 + 1.0) / n - 1.0 - ty.view(batch, 1)
            cs, sn = (torch.cos(angle) * zoom).view(batch, 1), (torch.sin(angle) * zoom).view(batch, 1)
            ox = cs * bx + sn * by
            oy = -sn * bx + cs * by
            points = torch.stack([((ox + 1.0) * n - 1.0) * 0.5, ((oy + 1.0) * n - 1.0) * 0.5], 2)
        inp = target
        if do_warp:
            cell = 2.0 / (c["warp_grid"] - 1)
            coarse = noise * (WARP_CELL_FRACTION * cell * c["warp_strength"])
            flow = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
            inp = F.grid_sample(image, grid + flow.permute(0, 2, 3, 1), mode="bicubic", padding_mode="border",
                                align_corners=False).clamp_(0.0, 1.0)
        if do_color:
            brightness = (symmetric(u[:, BRIGHTNESS]) * c["brightness"]).view(batch, 1, 1, 1)
            contrast = (1.0 + symmetric(u[:, CONTRAST]) * c["contrast"]).view(batch, 1, 1, 1)
            gain = (1.0 + symmetric(u[:, GAIN_R:GAIN_R + 3]) * c["channel_gain"]).view(batch, 3, 1, 1)

            def jitter(x):
                mean = x.mean((1, 2, 3), keepdim=True)
                return (((x - mean) * contrast + mean + brightness) * gain).clamp_(0.0, 1.0)

            shared = inp is target
            inp = jitter(inp)
            if c["color_on_target"]:
                target = inp if shared else jitter(target)
        return {"input": inp.contiguous(), "target": target.contiguous(), "target_mask": target_mask.contiguous(),
                "landmarks": points}


# ---- optimizer (trainer.cpp) --------------------------------------------------------------------


def make_optimizer(params, o):
    cls = torch.optim.Adam if o["type"] == "adam" else torch.optim.AdamW
    return cls(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), weight_decay=o["weight_decay"])


def learning_rate_at(o, step):
    if o["warmup_steps"] <= 0 or step >= o["warmup_steps"]:
        return o["lr"]
    return o["lr"] * (step + 1) / o["warmup_steps"]


# ---- describe ---------------------------------------------------------------------------------------


def forward_flops_per_image(model, resolution, batch=2):
    """Conv and dense FLOPs of one training forward (multiply-add = 2), per image: what facetrain's
    estimate_model_cost calls forward_flops_per_image."""
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.zeros(batch, 3, resolution, resolution)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x, x)
    return counter.get_total_flops() / (2 * batch)


def describe(config):
    torch.manual_seed(config["seed"])
    model = FaceSwapNet(config["model"])
    return {"parameters": sum(p.numel() for p in model.parameters()),
            "shapes": {n: list(p.shape) for n, p in model.named_parameters()},
            "forward_flops_per_image": forward_flops_per_image(model, config["model"]["resolution"]),
            "facetrain_dump": config["_notes"]}


# ---- check against facetrain's step -----------------------------------------------------------------


def check(config, reference_path, rtol):
    # torch::pickle_save tags a typed c10::Dict with restore_type_tag: allow that one function.
    import torch.jit._pickle
    with torch.serialization.safe_globals([torch.jit._pickle.restore_type_tag]):
        ref = torch.load(reference_path, weights_only=True)
    m = config["model"]
    results = []

    def record(name, ok, **detail):
        results.append(dict(check=name, ok=bool(ok), **detail))

    torch.manual_seed(config["seed"])
    model = FaceSwapNet(m)
    ours = {n: list(p.shape) for n, p in model.named_parameters()}
    theirs = {k[len("weight/"):]: list(v.shape) for k, v in ref.items() if k.startswith("weight/")}
    count = sum(p.numel() for p in model.parameters())
    record("parameter_count", count == int(ref["cost/parameter_count"]) == int(config["_notes"]["parameters"]),
           ours=count, facetrain=int(ref["cost/parameter_count"]), dump_config=int(config["_notes"]["parameters"]))
    differing = sorted(n for n in set(ours) | set(theirs) if ours.get(n) != theirs.get(n))
    record("layer_shapes", not differing and list(ours) == list(theirs), layers=len(ours),
           differing=differing[:10], same_order=list(ours) == list(theirs))
    flops = forward_flops_per_image(model, m["resolution"])
    theirs_flops = float(ref["cost/forward_flops_per_image"])
    dumped = float(config["_notes"]["forward GFLOP per image (training step)"])
    record("forward_flops_per_image", abs(flops - theirs_flops) <= 1e-9 * theirs_flops and
           abs(flops / 1e9 - dumped) <= 0.006, ours=flops, facetrain=theirs_flops, dump_config_gflop=dumped)

    # The same weights, the same raw faces: our augmentation must give facetrain's batch.
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(ref["weight/" + name])
    batches = {}
    for who, seed_key in (("actor", "seed/augment_actor"), ("double", "seed/augment_double")):
        aug = Augmenter(config["augment"], int(ref[seed_key]), torch.device("cpu"))
        mine = aug(ref[f"raw/{who}_images"], ref[f"raw/{who}_masks"], ref[f"raw/{who}_landmarks"])
        worst = max(float((mine[k] - ref[f"batch/{who}_{k}"]).abs().max()) for k in mine)
        record(f"augmentation_{who}", worst <= 1e-5, max_abs_difference=worst)
        batches[who] = {k: ref[f"batch/{who}_{k}"] for k in mine}  # facetrain's batch from here on

    o = config["optimizer"]
    optimizer = make_optimizer(model.parameters(), o)
    total, la, ld, out_a, out_d = step_loss(model, batches["actor"], batches["double"], config["loss"])
    for who, terms in (("actor", la), ("double", ld)):
        for term in LOSS_TERMS:
            mine, theirs = float(terms[term].detach()), float(ref[f"loss/{who}_{term}"])
            record(f"loss_{who}_{term}", abs(mine - theirs) <= rtol * max(abs(theirs), 1e-6), ours=mine, facetrain=theirs)
    worst_rgb = max(float((out_a[0].detach() - ref["output/actor_rgb"]).abs().max()),
                    float((out_d[0].detach() - ref["output/double_rgb"]).abs().max()))
    record("forward_output", worst_rgb <= 1e-4, max_abs_difference=worst_rgb)
    optimizer.zero_grad()
    total.backward()
    worst, worst_layer = 0.0, None
    for n, p in model.named_parameters():
        g = ref["grad/" + n]
        relative = float((p.grad - g).abs().max()) / max(float(g.abs().max()), 1e-30)
        if relative >= worst:
            worst, worst_layer = relative, n
    record("gradients", worst <= 1e-4, worst_relative_difference=worst, layer=worst_layer)
    # The global norm in float64 (facetrain sums float32 squares with torch's cascade sum, which
    # agrees); torch's own clip_grad_norm_ is noted: its CPU vector_norm of a float32 tensor of tens
    # of millions of elements is off in the 3rd-4th digit, so it clips by a slightly different factor.
    exact = math.sqrt(sum(float(p.grad.double().square().sum()) for p in model.parameters()))
    torch_norm = float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters()]))
    if o["clip_grad_norm"] > 0:
        record("gradient_norm", abs(exact - float(ref["grad_norm"])) <= rtol * float(ref["grad_norm"]), ours=exact,
               facetrain=float(ref["grad_norm"]), torch_clip_grad_norm=torch_norm)
        torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip_grad_norm"])
    lr = learning_rate_at(o, 0)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    with torch.no_grad():
        after, _, _, _, _ = step_loss(model, batches["actor"], batches["double"], config["loss"])
    # The step's effect on the loss, and on every weight (AdamW's first step moves each by about lr),
    # must be facetrain's to 1 % and 5 % of lr.
    mine, theirs = float(after), float(ref["loss/after_step_total"])
    before = float(ref["loss/actor_total"]) + float(ref["loss/double_total"])
    record("loss_after_one_step", abs(mine - theirs) <= 0.01 * abs(before - theirs) and before != theirs,
           ours=mine, facetrain=theirs, before=before, lr=lr)
    worst_weight, moved, count = 0.0, 0.0, 0
    for n, p in model.named_parameters():
        worst_weight = max(worst_weight, float((p.detach() - ref["weight_after/" + n]).abs().max()))
        moved += float((ref["weight_after/" + n] - ref["weight/" + n]).abs().sum())
        count += p.numel()
    record("weights_after_one_step", worst_weight <= 0.05 * lr, max_abs_difference=worst_weight, lr=lr,
           facetrain_mean_abs_update_over_lr=moved / count / lr)
    return results


# ---- bench ------------------------------------------------------------------------------------------


def synthetic_faces(count, size, device, generator):
    """Smooth colour fields, an elliptic mask and random landmarks, as facetrain_bench makes them."""
    field = F.interpolate(torch.rand((count, 3, 8, 8), generator=generator), size=(size, size), mode="bilinear",
                          align_corners=False)
    ys = torch.linspace(-1, 1, size).view(1, 1, size, 1)
    xs = torch.linspace(-1, 1, size).view(1, 1, 1, size)
    mask = ((xs.square() / 0.5 + ys.square() / 0.7) < 1.0).to(torch.uint8).mul(255).expand(count, 1, size, size)
    landmarks = (torch.rand((count, 68, 2), generator=generator) * 0.5 + 0.25) * (size - 1)
    return {"images": (field * 255).round().to(torch.uint8).to(device), "masks": mask.contiguous().to(device),
            "landmarks": landmarks.to(device)}


def bench(config, args):
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    m, o = config["model"], config["optimizer"]
    batch = args.batch_size or config["batch_size"]
    r = m["resolution"]
    torch.manual_seed(1)
    model = FaceSwapNet(m).to(device)
    model.train()
    gen = torch.Generator().manual_seed(5)
    faces = {who: synthetic_faces(max(64, 2 * batch), r, device, gen) for who in ("actor", "double")}
    augment = {"actor": Augmenter(config["augment"], 3, device), "double": Augmenter(config["augment"], 4, device)}
    sampler = torch.Generator().manual_seed(7)
    loss_config = config["loss"]

    # CUDA as `facetrain train --device cuda`: bf16 autocast for the network, float32 losses,
    # channels_last activations and conv weights (the config's bf16 and channels_last keys).
    cuda = device.type == "cuda"
    amp = cuda and config.get("bf16", False)
    channels_last = cuda and config.get("channels_last", False)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)

    def forward_loss(a_in, a_t, a_m, a_l, d_in, d_t, d_m, d_l):
        a = {"input": a_in, "target": a_t, "target_mask": a_m, "landmarks": a_l}
        d = {"input": d_in, "target": d_t, "target_mask": d_m, "landmarks": d_l}
        if channels_last:
            a_in = a_in.contiguous(memory_format=torch.channels_last)
            d_in = d_in.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            out_a, out_d = model(a_in, d_in)
        return losses_for(out_a, a, loss_config)["total"] + losses_for(out_d, d, loss_config)["total"]

    optimizer = make_optimizer(model.parameters(), o)
    compiled = torch.compile(forward_loss) if args.mode == "compile" else forward_loss

    def data():
        out = []
        for who in ("actor", "double"):
            f = faces[who]
            index = torch.randint(f["images"].size(0), (batch,), generator=sampler).to(device)
            b = augment[who](f["images"].index_select(0, index), f["masks"].index_select(0, index),
                             f["landmarks"].index_select(0, index))
            out += [b["input"], b["target"], b["target_mask"], b["landmarks"]]
        return out

    from torch.autograd.profiler import record_function  # phase labels for --profile

    def step(i):
        with record_function("peer::data"):
            tensors = data()
        with record_function("peer::forward_and_losses"):
            total = compiled(*tensors)
        with record_function("peer::backward"):
            optimizer.zero_grad()
            total.backward()
        with record_function("peer::clip_gradients"):
            if o["clip_grad_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip_grad_norm"])
        with record_function("peer::optimizer_step"):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(o, i)
            optimizer.step()
        return total

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    for i in range(args.warmup):
        step(i)
    sync()
    warmup_s = time.perf_counter() - t0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(args.steps):
        last = step(args.warmup + i)
    sync()
    step_s = (time.perf_counter() - t0) / args.steps
    cpu_step_s = (time.process_time() - cpu0) / args.steps
    data_s = 0.0
    for _ in range(args.data_steps):
        sync()
        d0 = time.perf_counter()
        data()
        sync()
        data_s += time.perf_counter() - d0
    data_s /= max(1, args.data_steps)
    result = {"side": f"pytorch_{args.mode}", "preset": config["preset"], "batch_size": batch, "device": str(device),
              "threads": torch.get_num_threads(), "steps": args.steps, "warmup": args.warmup,
              "warmup_s": warmup_s, "step_ms": step_s * 1e3, "images_per_s": 2.0 * batch / step_s,
              "data_ms": data_s * 1e3, "data_share": data_s / step_s,
              "cpu_s_per_step": cpu_step_s, "images_per_cpu_s": 2.0 * batch / cpu_step_s, "last_loss": float(last.detach()),
              "torch_version": torch.__version__}
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        with profile(activities=activities) as prof:
            for i in range(args.profile_steps):
                step(i)
            sync()
        table = []
        for e in sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True):
            table.append({"name": e.key, "count": e.count // args.profile_steps,
                          "self_ms": e.self_cpu_time_total / 1e3 / args.profile_steps,
                          "total_ms": e.cpu_time_total / 1e3 / args.profile_steps})
        whole = sum(e["self_ms"] for e in table)
        json.dump({"side": result["side"], "preset": config["preset"], "batch_size": batch,
                   "steps": args.profile_steps, "self_ms_sum": whole,
                   "ops": [e for k, e in enumerate(table) if k < args.profile_top or e["name"].startswith("peer::")]},
                  open(args.profile, "w"), indent=1)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("describe")
    d.add_argument("--config", required=True)
    c = sub.add_parser("check")
    c.add_argument("--config", required=True)
    c.add_argument("--reference", required=True)
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--threads", type=int, default=0)
    b = sub.add_parser("bench")
    b.add_argument("--config", required=True)
    b.add_argument("--batch-size", type=int, default=0, help="faces per identity (default: the config's)")
    b.add_argument("--mode", choices=("eager", "compile"), default="eager")
    b.add_argument("--device", default="cpu")
    b.add_argument("--threads", type=int, default=0)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--data-steps", type=int, default=5)
    b.add_argument("--profile", default="", help="write the torch profiler's op list (JSON) here")
    b.add_argument("--profile-steps", type=int, default=2)
    b.add_argument("--profile-top", type=int, default=40)
    args = p.parse_args()
    config = load_config(args.config)
    if args.command == "describe":
        print(json.dumps(describe(config)))
        return 0
    if args.command == "check":
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.use_deterministic_algorithms(True)  # as peer_reference and `facetrain train` on CPU
        results = check(config, args.reference, args.rtol)
        for r in results:
            print(json.dumps(r))
        return 0 if all(r["ok"] for r in results) else 1
    print(json.dumps(bench(config, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
