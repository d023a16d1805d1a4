"""Fast attention for ACmix (arXiv:2111.14556): matmuls instead of 5-D broadcast sums.

The notebook computes, for every output position p and each of the k*k positions j of a
reflect-padded window (see ``paddle_repro/layers/acmix.py``)::

    logit_j = q_p . (k_j + pe_p - pe_j)            softmax over j,  out_p = sum_j a_j v_j

``q_p . pe_p`` is the same for every j of p's window, and softmax is shift invariant, so
it drops out exactly: ``logit_j = q_p . k'_j`` with ``k' = k - pe``. What remains is
attention restricted to a window, which two exact formulations turn into matmuls:

* **dense** (small maps): attend from every output position to all h*w input positions
  and add ``log m(p, r)``, where m(p, r) counts how often input position r appears in p's
  reflect-padded window (reflection can reach a position twice; m = 0 gives a huge
  negative value, i.e. probability exactly 0). ``sum_j exp(l_j) = sum_r m exp(l_r)``, so
  the softmax and the weighted sum of values are the notebook's. The mask depends only on
  (h, w, stride, kernel, dilation) and is built once in numpy.
* **tiled** (large maps): cut T x T tiles of output positions; each tile attends to the
  R x R halo (R = (T-1)*stride + dilation*(k-1) + 1) of the reflect-padded k' and v, with a
  0 / huge-negative mask that keeps each query's own k x k window. Memory grows with
  h*w*R^2 instead of the notebook's h*w*head_dim*k^2.

Both functions take ``q`` already scaled and strided.
"""
import numpy as np
import paddle
import paddle.nn.functional as F

NEG = -1e30  # finite "minus infinity": exp underflows to exactly 0, no inf arithmetic


def _reflect(i, n):
    """Index into an unpadded axis of length n after reflect padding (no edge repeat)."""
    if i < 0:
        return -i
    if i >= n:
        return 2 * (n - 1) - i
    return i


def window_counts_1d(n, pad, kernel, stride, dilation):
    """How often each input index appears in each output's reflect-padded window.

    Returns:
        int64 array (n_out, n), n_out = (n + 2*pad - dilation*(kernel-1) - 1)//stride + 1.
    """
    n_out = (n + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
    counts = np.zeros((n_out, n), dtype=np.int64)
    for o in range(n_out):
        for j in range(kernel):
            counts[o, _reflect(o * stride + j * dilation - pad, n)] += 1
    return counts


def _log_or_neg(counts):
    out = np.full(counts.shape, NEG, dtype=np.float64)
    hit = counts > 0
    out[hit] = np.log(counts[hit])
    return out


def dense_mask(h, w, pad, kernel, stride, dilation):
    """Additive mask log m(p, r) of shape (h_out*w_out, h*w), float64 numpy."""
    mh = _log_or_neg(window_counts_1d(h, pad, kernel, stride, dilation))  # (h_out, h)
    mw = _log_or_neg(window_counts_1d(w, pad, kernel, stride, dilation))  # (w_out, w)
    mask = mh[:, None, :, None] + mw[None, :, None, :]
    mask = np.maximum(mask, NEG)  # NEG + NEG stays a single "minus infinity"
    return mask.reshape(mh.shape[0] * mw.shape[0], h * w)


def tile_mask(tile, kernel, stride, dilation):
    """Additive 0 / NEG mask (tile*tile, R*R), float64, of a query tile against its halo."""
    r = (tile - 1) * stride + dilation * (kernel - 1) + 1
    m1 = np.full((tile, r), NEG, dtype=np.float64)
    for t in range(tile):
        m1[t, t * stride + dilation * np.arange(kernel)] = 0.0
    mask = np.maximum(m1[:, None, :, None] + m1[None, :, None, :], NEG)
    return mask.reshape(tile * tile, r * r)


class MaskCache:
    """Masks built once in numpy per key; tensors cached per dtype and place in dygraph.

    Under ``paddle.jit.to_static`` (static mode) the numpy array becomes a constant of the
    program instead, so a traced layer carries its masks with it.
    """

    def __init__(self):
        self._arrays, self._tensors = {}, {}

    def get(self, key, like, build, *args):
        """Mask for ``key`` (built by ``build(*args)`` once) in ``like``'s dtype and place."""
        if key not in self._arrays:
            self._arrays[key] = build(*args)
        dtype = str(like.dtype).split(".")[-1]
        if not paddle.in_dynamic_mode():
            return paddle.to_tensor(self._arrays[key].astype(dtype))
        tkey = key + (dtype, str(like.place))
        if tkey not in self._tensors:
            self._tensors[tkey] = paddle.to_tensor(self._arrays[key].astype(dtype),
                                                   place=like.place)
        return self._tensors[tkey]


def attention_dense(q, k, v, mask):
    """Window attention as dense attention plus a multiplicity mask.

    Args:
        q: [BH, C, h_out, w_out] scaled, strided queries.
        k: [BH, C, h, w] keys minus positional encoding (k - pe).
        v: [BH, C, h, w] values.
        mask: [h_out*w_out, h*w] from ``dense_mask``.

    Returns:
        [BH, C, h_out, w_out].
    """
    c, h_out, w_out = q.shape[1:]
    hw = k.shape[2] * k.shape[3]
    # -1 for the batch: under to_static it may be unknown until run time
    logits = paddle.matmul(q.reshape([-1, c, h_out * w_out]), k.reshape([-1, c, hw]),
                           transpose_x=True) + mask                    # [BH, P, HW]
    att = F.softmax(logits, axis=-1)
    out = paddle.matmul(v.reshape([-1, c, hw]), att, transpose_y=True)  # [BH, C, P]
    return out.reshape([-1, c, h_out, w_out])


def attention_tiled(q, k, v, mask, pad, kernel, stride, dilation, tile):
    """Window attention over T x T query tiles and their halos (bounded memory).

    Args:
        q: [BH, C, h_out, w_out] scaled, strided queries.
        k, v: [BH, C, h, w] (k already minus the positional encoding).
        mask: [tile*tile, R*R] from ``tile_mask``.
        pad: reflect padding of the attention window.

    Returns:
        [BH, C, h_out, w_out].
    """
    c, h_out, w_out = q.shape[1:]
    h, w = k.shape[2], k.shape[3]
    r = (tile - 1) * stride + dilation * (kernel - 1) + 1
    nty, ntx = -(-h_out // tile), -(-w_out // tile)
    # one reflect pad + one unfold for k and v together
    kv = F.pad(paddle.concat([k, v], axis=1), [pad, pad, pad, pad], mode="reflect")
    need_h = (nty * tile - 1) * stride + dilation * (kernel - 1) + 1  # last tile's halo end
    need_w = (ntx * tile - 1) * stride + dilation * (kernel - 1) + 1
    extra_h, extra_w = max(0, need_h - (h + 2 * pad)), max(0, need_w - (w + 2 * pad))
    if extra_h or extra_w:  # the halos of the last (partial) tiles; masked or cut later
        kv = F.pad(kv, [0, extra_w, 0, extra_h], mode="constant")
    halos = F.unfold(kv, kernel_sizes=[r, r], strides=[tile * stride, tile * stride])
    halos = halos.reshape([-1, 2 * c, r * r, nty * ntx]).transpose([0, 3, 1, 2])
    halos = halos.reshape([-1, 2 * c, r * r])
    kt, vt = paddle.split(halos, 2, axis=1)  # split, not slicing: slice grads are slow on CPU
    qt = q
    if nty * tile != h_out or ntx * tile != w_out:  # zero queries fill the last tiles
        qt = F.pad(q, [0, ntx * tile - w_out, 0, nty * tile - h_out], mode="constant")
    qt = qt.reshape([-1, c, nty, tile, ntx, tile]).transpose([0, 2, 4, 1, 3, 5])
    qt = qt.reshape([-1, c, tile * tile])
    att = F.softmax(paddle.matmul(qt, kt, transpose_x=True) + mask, axis=-1)  # [N, T*T, R*R]
    out = paddle.matmul(vt, att, transpose_y=True)                           # [N, C, T*T]
    out = out.reshape([-1, nty, ntx, c, tile, tile]).transpose([0, 3, 1, 4, 2, 5])
    out = out.reshape([-1, c, nty * tile, ntx * tile])
    if nty * tile != h_out or ntx * tile != w_out:
        out = out[:, :, :h_out, :w_out]
    return out
