"""Batched augmentation of uint8 images on their device: random-resized crop, flip, center
crop, CIFAR's padded random crop, then float conversion and normalisation.

Random parameters are drawn on the CPU from the caller's torch.Generator, so a seed gives the
same crops and flips on every device. Crop boxes are drawn in the source image's pixels, as
torchvision's RandomResizedCrop draws them (scale and aspect ratio of the original image),
and mapped onto the stored image, which may have been resized without keeping its aspect
ratio (dilt.prepared stores every image as an R x R square). Pixels are resampled where the
images are: on CUDA all crops of a batch in one roi_align call (bilinear samples averaged
over each output pixel's footprint, so downscaling is antialiased), rounded back to uint8;
on the CPU one antialiased bilinear uint8 resize per image, PyTorch's vectorised uint8
kernel (one core, 256px squares to 160px crops: about 6,500-9,000 images/s, against 500 for
roi_align and 1,000 for grid_sample, which need float copies of the whole batch). Both
paths give the same crops to within a few grey levels (tests/test_prepared.py runs both).
"""

import math

import torch

DEFAULT_CROP = 0.875  # evaluation: the central 87.5% of the shorter side, as Resize + CenterCrop


def rrc_boxes(sizes, generator=None, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), tries=10):
    """Random-resized-crop boxes (x0, y0, x1, y1) in source pixels for images of `sizes`
    (N, 2) = (height, width): area a uniform fraction `scale` of the image, log aspect ratio
    uniform in log `ratio`, the first of `tries` draws that fits, else the whole image
    clamped to `ratio` (torchvision's rule). A fixed number of draws per image, so the
    generator advances the same way whatever the sizes."""
    n = len(sizes)
    h, w = (sizes[:, i].double()[:, None] for i in (0, 1))
    area = (h * w) * torch.empty(n, tries, dtype=torch.float64).uniform_(*scale,
                                                                         generator=generator)
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.empty(n, tries, dtype=torch.float64).uniform_(log_lo, log_hi,
                                                                 generator=generator).exp()
    cw, ch = (area * aspect).sqrt(), (area / aspect).sqrt()
    fits = (cw <= w) & (ch <= h)
    first = fits.to(torch.uint8).argmax(1, keepdim=True)
    cw, ch = cw.gather(1, first)[:, 0], ch.gather(1, first)[:, 0]
    h, w = h[:, 0], w[:, 0]
    whole = w / h
    found = fits.any(1)
    cw = torch.where(found, cw, torch.where(whole > ratio[1], h * ratio[1], w))
    ch = torch.where(found, ch, torch.where(whole < ratio[0], w / ratio[0], h))
    u = torch.rand(n, 2, dtype=torch.float64, generator=generator)
    u[~found] = 0.5  # the fallback is centred
    x0, y0 = u[:, 0] * (w - cw), u[:, 1] * (h - ch)
    return torch.stack([x0, y0, x0 + cw, y0 + ch], 1)


def center_boxes(sizes, crop=DEFAULT_CROP):
    """The central square of side `crop` x the shorter side, in source pixels: the region
    Resize(size / crop) + CenterCrop(size) keeps."""
    h, w = sizes[:, 0].double(), sizes[:, 1].double()
    side = crop * torch.minimum(h, w)
    x0, y0 = (w - side) / 2, (h - side) / 2
    return torch.stack([x0, y0, x0 + side, y0 + side], 1)


def to_stored(boxes, sizes, resolution):
    """Boxes in source pixels mapped onto images stored as `resolution` squares."""
    h, w = sizes[:, 0].double(), sizes[:, 1].double()
    return boxes * torch.stack([resolution / w, resolution / h] * 2, 1)


def flips(n, generator=None):
    """Which of `n` images to mirror left-right: each with probability 1/2."""
    return torch.rand(n, generator=generator) < 0.5


def crop_resize(images, boxes, size, flip=None):
    """Crop each image of `images` (N, R, R, 3) uint8 to its box (N, 4) (x0, y0, x1, y1 in
    stored pixels, edges at integers), resize it to size x size and mirror those where
    `flip` (N,) is true: uint8 (N, size, size, 3)."""
    flip = torch.zeros(len(images), dtype=torch.bool) if flip is None else flip
    if images.device.type == "cuda":
        return _crop_resize_batched(images, boxes, size, flip)
    return _crop_resize_each(images, boxes, size, flip)


def _crop_resize_batched(images, boxes, size, flip):
    from torchvision.ops import roi_align

    rois = torch.cat([torch.arange(len(boxes), dtype=torch.float64)[:, None], boxes], 1)
    x = images.permute(0, 3, 1, 2).float()
    out = roi_align(x, rois.to(images.device, torch.float32), size, 1.0, -1, aligned=True)
    out = out.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    flip = flip.to(images.device)[:, None, None, None]
    return torch.where(flip, out.flip(2), out).contiguous()


def _crop_resize_each(images, boxes, size, flip):
    import torch.nn.functional as F

    r = images.shape[1]
    out = torch.empty(len(images), size, size, 3, dtype=torch.uint8)
    for i, ((x0, y0, x1, y1), mirror) in enumerate(zip(boxes.round().long().tolist(),
                                                      flip.tolist(), strict=True)):
        x0, y0 = min(max(x0, 0), r - 1), min(max(y0, 0), r - 1)
        x1, y1 = min(max(x1, x0 + 1), r), min(max(y1, y0 + 1), r)
        crop = images[i, y0:y1, x0:x1].permute(2, 0, 1)[None]
        crop = crop.contiguous(memory_format=torch.channels_last)  # the vectorised uint8 path
        resized = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True,
                                align_corners=False)[0].permute(1, 2, 0)
        out[i] = resized.flip(1) if mirror else resized
    return out


def pad_offsets(n, generator=None, pad=4):
    """Window offsets (N, 2) (row, column) in 0..2*pad for pad_crop."""
    return torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)


def pad_crop(images, offsets, flip, pad=4):
    """CIFAR's augmentation crop: the H x W window at `offsets` of each image of `images`
    (N, H, W, 3) uint8 zero-padded by `pad` pixels, mirrored where `flip`: (N, H, W, 3)."""
    n, h, w, _ = images.shape
    device = images.device
    padded = torch.nn.functional.pad(images, (0, 0, pad, pad, pad, pad))
    offsets = offsets.to(device)
    rows = offsets[:, :1] + torch.arange(h, device=device)
    cols = offsets[:, 1:] + torch.arange(w, device=device)
    cols = torch.where(flip.to(device)[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]


def normalize(images, mean, std):
    """uint8 images (N, H, W, 3) -> float32 (x / 255 - mean) / std, shaped (N, 3, H, W) in
    channels_last memory (the layout dilt.devices gives convolutional models)."""
    n, h, w, c = images.shape
    mean = (torch.tensor(mean, device=images.device) * 255).repeat(h * w)
    scale = (1 / (torch.tensor(std, device=images.device) * 255)).repeat(h * w)
    # per-pixel constants tiled along the row: one long broadcast instead of a stride-3 one
    out = images.reshape(n, -1).float().sub_(mean).mul_(scale)
    return out.view(n, h, w, c).permute(0, 3, 1, 2)


def progressive_size(epoch, min_res, max_res, start_ramp, end_ramp, step=32):
    """Training resolution of `epoch` (0-based) under progressive resizing: `min_res` up to
    `start_ramp`, `max_res` from `end_ramp`, in between linear and rounded to a multiple of
    `step` (FFCV's ImageNet schedule)."""
    if epoch <= start_ramp:
        return min_res
    if epoch >= end_ramp:
        return max_res
    res = min_res + (max_res - min_res) * (epoch - start_ramp) / (end_ramp - start_ramp)
    return int(round(res / step)) * step
