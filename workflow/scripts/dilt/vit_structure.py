"""Structural units of a timm VisionTransformer, masks that remove whole units, and what a
masked ViT costs (FLOPs, parameters). The weight names and the per-head / per-projection /
per-FFN overlap table are in dilt.vit_overlap (no torch).

Units (all blocks alike):
- head h of block i: its q, k and v rows of blocks.i.attn.qkv.weight (rows h*d..h*d+d-1 of
  each third, d = dim / heads) and its columns of blocks.i.attn.proj.weight;
- FFN neuron j of block i: row j of blocks.i.mlp.fc1.weight and column j of mlp.fc2.weight;
- embedding channel c (one residual-stream dimension, shared by every block): row c of every
  weight that writes the stream (patch_embed.proj, every attn.proj and mlp.fc2) and column c
  of every weight that reads it (every attn.qkv and mlp.fc1).

Only weights carry masks. Biases, LayerNorms, the class token and position embeddings are
left alone, and this is what the masked network then computes:
- a removed head: its proj columns are zero, so nothing of it reaches the stream (its qkv
  biases remain but feed only the removed head): exactly the network without the head;
- a removed neuron: its fc2 column is zero (its fc1 bias feeds only itself): exactly the
  network without the neuron;
- a removed channel: no weight reads it and no weight writes it, so it holds a value that
  does not depend on the input (class token / position embedding plus producer biases, which
  stay trainable). It still enters every LayerNorm's mean and variance, and the classifier
  head (never pruned) reads it through the final norm. It carries no information from the
  input, but it is not the network with the channel sliced out.

FLOPs are multiply-accumulates (fvcore's convention: DeiT-S is 4.6 G) of the matrix
products of one image's forward pass, counted from the mask: linear layers (the patch
embedding is one, per patch) cost tokens x kept weights; a head's attention costs
tokens^2 x head_dim for the scores and again for the weighted values when any of its value
dimensions reaches the stream (v row and proj column both keep a weight), nothing otherwise;
the classifier head costs classes x dim (one pooled token, never pruned). Norms, softmax,
GELU, biases and residual additions are not counted. For masks of removed units this is the
count of the network with those units sliced out, except that the head keeps all dim inputs.
"""

from dataclasses import dataclass

import numpy as np
import torch

from . import masks as algebra
from .io import DiltError
from .vit_overlap import PATCH, fc1_name, fc2_name, head_rows, proj_name, qkv_name

KINDS = ("head", "neuron", "channel")


@dataclass(frozen=True)
class Unit:
    """One prunable unit: kind head | neuron | channel, its block (-1 for channels) and index."""

    kind: str
    block: int
    index: int


@dataclass(frozen=True)
class ViTStructure:
    """Sizes of a plain ViT: `depth` blocks of `heads` heads over `dim` channels, MLP hidden
    size `hidden`, `patches` patch tokens plus `prefix` class/register tokens, patch
    embedding weight of shape `patch_shape`, `classes` outputs."""

    depth: int
    dim: int
    heads: int
    hidden: int
    patches: int
    prefix: int
    patch_shape: tuple
    classes: int

    @property
    def head_dim(self):
        return self.dim // self.heads

    @property
    def tokens(self):
        return self.patches + self.prefix

    @classmethod
    def from_model(cls, model):
        """Read the sizes of a timm VisionTransformer; DiltError unless every block has the
        same plain attention (one qkv Linear) and MLP (fc1, fc2)."""
        try:
            blocks = list(model.blocks)
            attn, mlp = blocks[0].attn, blocks[0].mlp
            out = cls(depth=len(blocks), dim=model.embed_dim, heads=attn.num_heads,
                      hidden=mlp.fc1.out_features, patches=model.patch_embed.num_patches,
                      prefix=model.num_prefix_tokens,
                      patch_shape=tuple(model.patch_embed.proj.weight.shape),
                      classes=model.head.out_features)
        except AttributeError as exc:
            raise DiltError(f"model.arch: structured ViT pruning needs a timm "
                            f"VisionTransformer with plain blocks ({exc})") from None
        params = dict(model.named_parameters())
        for name, shape in out.shapes().items():
            if name not in params or tuple(params[name].shape) != shape:
                raise DiltError(f"model.arch: '{name}' is not a {shape} weight; structured "
                                f"ViT pruning needs identical plain blocks")
        return out

    def shapes(self):
        """{weight name: shape} of every weight the units live in, in network order."""
        d, m = self.dim, self.hidden
        out = {PATCH: self.patch_shape}
        for i in range(self.depth):
            out.update({qkv_name(i): (3 * d, d), proj_name(i): (d, d),
                        fc1_name(i): (m, d), fc2_name(i): (d, m)})
        return out

    def units(self, kinds=KINDS):
        """Every unit of the given kinds: heads and neurons block by block, then channels."""
        out = []
        if "head" in kinds:
            out += [Unit("head", i, h) for i in range(self.depth) for h in range(self.heads)]
        if "neuron" in kinds:
            out += [Unit("neuron", i, j) for i in range(self.depth) for j in range(self.hidden)]
        if "channel" in kinds:
            out += [Unit("channel", -1, c) for c in range(self.dim)]
        return out

    def unit_weights(self, unit):
        """[(weight name, index)] of the weights that belong to `unit` (index selects rows or
        columns of that weight)."""
        i, k = unit.block, unit.index
        if unit.kind == "head":
            hd = self.head_dim
            return [(qkv_name(i), (head_rows(self.dim, self.heads, k),)),
                    (proj_name(i), (slice(None), slice(k * hd, (k + 1) * hd)))]
        if unit.kind == "neuron":
            return [(fc1_name(i), (k,)), (fc2_name(i), (slice(None), k))]
        if unit.kind == "channel":
            out = [(PATCH, (k,))]
            for b in range(self.depth):
                out += [(qkv_name(b), (slice(None), k)), (proj_name(b), (k,)),
                        (fc1_name(b), (slice(None), k)), (fc2_name(b), (k,))]
            return out
        raise ValueError(f"unknown unit kind '{unit.kind}'")


def check_prunable(structure, names):
    """DiltError unless the prunable weights are exactly the ones the units live in."""
    if set(names) != set(structure.shapes()):
        diff = sorted(set(names) ^ set(structure.shapes()))
        raise DiltError(f"model.ignore: structured ViT pruning needs every patch embedding, "
                        f"qkv, proj, fc1 and fc2 weight prunable (differs at {diff[:3]})")


def structured_mask(structure, removed):
    """Bool mask (torch, True = kept) of every unit weight with the `removed` units zeroed."""
    out = {n: torch.ones(s, dtype=torch.bool) for n, s in structure.shapes().items()}
    for unit in removed:
        for name, index in structure.unit_weights(unit):
            out[name][index] = False
    return out


def removed_units(structure, mask):
    """The units all of whose weights the mask removes."""
    return [u for u in structure.units()
            if not any(torch.as_tensor(mask[n])[i].any() for n, i in structure.unit_weights(u))]


def structured_cost(structure, heads, neurons, channels):
    """{"flops", "params"} of the network that keeps heads[i] heads and neurons[i] neurons in
    block i and `channels` embedding channels: the closed form of flops() / kept weights for
    masks of removed units (see the module docstring)."""
    n, hd, e = structure.tokens, structure.head_dim, channels
    patch_in = int(np.prod(structure.patch_shape[1:]))
    params = patch_in * e + sum(4 * hd * h * e + 2 * m * e
                                for h, m in zip(heads, neurons, strict=True))
    flops = (structure.patches * patch_in * e
             + sum(n * (4 * hd * h * e + 2 * m * e) + 2 * n * n * hd * h
                   for h, m in zip(heads, neurons, strict=True))
             + structure.classes * structure.dim)
    return {"flops": flops, "params": params}


def flops(structure, mask=None):
    """Multiply-accumulates of one image's forward pass under `mask` (None: dense), per
    matrix product (patch_embed, blocks.i.attn.{qkv,scores,values,proj},
    blocks.i.mlp.{fc1,fc2}, head) and their `total`; weights absent from the mask are dense."""
    shapes = structure.shapes()

    def kept(name):
        if mask is None or name not in mask:
            return torch.ones(shapes[name], dtype=torch.bool)
        return torch.as_tensor(mask[name]).bool()

    n, h, hd = structure.tokens, structure.heads, structure.head_dim
    out = {"patch_embed": structure.patches * int(kept(PATCH).sum())}
    for i in range(structure.depth):
        qkv, proj = kept(qkv_name(i)), kept(proj_name(i))
        v_rows = qkv.any(1).view(3, h, hd)[2]
        live = (v_rows & proj.any(0).view(h, hd)).any(1)
        attention = n * n * hd * int(live.sum())
        out[f"blocks.{i}.attn.qkv"] = n * int(qkv.sum())
        out[f"blocks.{i}.attn.scores"] = attention
        out[f"blocks.{i}.attn.values"] = attention
        out[f"blocks.{i}.attn.proj"] = n * int(proj.sum())
        out[f"blocks.{i}.mlp.fc1"] = n * int(kept(fc1_name(i)).sum())
        out[f"blocks.{i}.mlp.fc2"] = n * int(kept(fc2_name(i)).sum())
    out["head"] = structure.classes * structure.dim
    out["total"] = sum(out.values())
    return out


def is_vit(model):
    """Whether `model` looks like a timm VisionTransformer (patch embedding and blocks)."""
    return hasattr(model, "patch_embed") and hasattr(model, "blocks")


def flops_summary(model, mask):
    """{flops, flops_reduction} of one image's forward pass of a timm ViT under `mask` (None:
    dense), for result files and the experiment-1 table; {} for other models."""
    if not is_vit(model):
        return {}
    structure = ViTStructure.from_model(model)
    dense = flops(structure)["total"]
    now = dense if mask is None else flops(structure, mask)["total"]
    return {"flops": now, "flops_reduction": 1 - now / dense}


def summary(structure, mask, removed):
    """FLOPs and parameter figures of a mask of `removed` units, for logs and JSON."""
    dense, now = flops(structure)["total"], flops(structure, mask)["total"]
    density = algebra.density(mask)
    return {"flops": now, "flops_dense": dense, "flops_reduction": 1 - now / dense,
            "density": density, "sparsity": 1 - density,
            "removed": {k: sum(u.kind == k for u in removed) for k in KINDS}}
