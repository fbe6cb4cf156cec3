"""Oracle: compressed-tensors checkpoint packing, bit for bit.

- compress cases: the pack-quantized, nvfp4-pack-quantized and mxfp4-pack-quantized
  compressors run on weights with CT qparams (see _quant_cases); expected weight_packed,
  weight_zero_point (asymmetric group/channel: packed along dim 0) and weight_scale.
- raw cases: pack_to_int32 / unpack_from_int32 on seeded in-range int8 values for 1..8 bits,
  2-D and 3-D, packed_dim 0 and 1; pack_fp4_to_uint8 on every E2M1 value incl. -0 and
  unpack_fp4_from_uint8 in fp32 / bf16.
"""
import torch
from _common import DTYPES, OracleWriter, make_weight
from _quant_cases import args_fields, all_weight_args, qparams_of, seed_of
from compressed_tensors.compressors.mxfp4.base import MXFP4PackedCompressor
from compressed_tensors.compressors.nvfp4.base import NVFP4PackedCompressor
from compressed_tensors.compressors.nvfp4.helpers import pack_fp4_to_uint8, unpack_fp4_from_uint8
from compressed_tensors.compressors.pack_quantized.base import PackedQuantizationCompressor
from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32, unpack_from_int32
from compressed_tensors.quantization import QuantizationScheme

PACKED_ARGS = ["W2A16", "W3A16", "W4A16", "W5A16", "W6A16", "W7A16", "W8A16", "W4A16_ASYM",
               "W8A8", "int8_tensor_asym", "int4_channel_asym", "int4_group32_asym",
               "int4_block3x5"]
FP4_ARGS = {"NVFP4A16": NVFP4PackedCompressor, "MXFP4A16": MXFP4PackedCompressor}


def compress_case(out, name, args, compressor, dtype_name, kind, shape):
    cid = f"compress.{name}.{dtype_name}.{kind}.{shape[0]}x{shape[1]}"
    w = make_weight(kind, *shape, DTYPES[dtype_name], seed_of(cid))
    q = qparams_of(w, args)
    # Qparams live in the observed dtype's parameters (initialize_qparams), as in a real run.
    state = {"weight": w, "weight_scale": q["scale"].to(w.dtype), "weight_zero_point": q["zero_point"]}
    if q["global_scale"] is not None:
        state["weight_global_scale"] = q["global_scale"]
    scheme = QuantizationScheme(targets=["Linear"], weights=args)
    packed = compressor.compress(dict(state), scheme)
    # pack-quantized keeps weight_scale and unpacked zero points as they are: store those once.
    repacked = {k: v for k, v in packed.items() if v is not state.get(k)}
    out.add({"id": cid, "kind_of_case": "compress", **args_fields(args)},
            weight=w, scale=state["weight_scale"], zero_point=q["zero_point"],
            global_scale=q["global_scale"], weight_packed=repacked["weight_packed"],
            packed_scale=repacked.get("weight_scale"),
            packed_zero_point=repacked.get("weight_zero_point"))


def add_compress_cases(out):
    catalogue = all_weight_args()
    for dtype_name in DTYPES:
        for kind in ("normal", "outlier_cols", "zero_rows", "huge"):
            for name in PACKED_ARGS:
                args = catalogue[name]
                shape = (10, 256) if args.strategy != "block" else (7, 17)
                compress_case(out, name, args, PackedQuantizationCompressor, dtype_name, kind, shape)
            for name, compressor in FP4_ARGS.items():
                compress_case(out, name, catalogue[name], compressor, dtype_name, kind, (6, 256))


def add_raw_int32_cases(out):
    for bits in range(1, 9):
        for shape, packed_dim in (((5, 37), 1), ((3, 64), 1), ((2, 4, 50), 1), ((13, 6), 0),
                                  ((33, 3), 0)):
            cid = f"int32.{bits}bit.{'x'.join(map(str, shape))}.dim{packed_dim}"
            g = torch.Generator().manual_seed(seed_of(cid))
            low, high = -(1 << (bits - 1)), (1 << (bits - 1))
            values = torch.randint(low, high, shape, generator=g, dtype=torch.int8)
            packed = pack_to_int32(values, bits, packed_dim=packed_dim)
            unpacked = unpack_from_int32(packed, bits, torch.Size(shape), packed_dim=packed_dim)
            out.add({"id": cid, "kind_of_case": "int32", "num_bits": bits, "shape": list(shape),
                     "packed_dim": packed_dim},
                    values=values, packed=packed, unpacked=unpacked)


def add_raw_fp4_cases(out):
    grid = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    values = torch.cat([grid, -grid]).repeat(3)[torch.randperm(48, generator=torch.Generator().manual_seed(3))]
    for dtype_name, dtype in DTYPES.items():
        x = values.reshape(4, 12).to(dtype)
        packed = pack_fp4_to_uint8(x)
        out.add({"id": f"fp4.{dtype_name}", "kind_of_case": "fp4", "dtype": dtype_name},
                values=x, packed=packed, unpacked=unpack_fp4_from_uint8(packed, 4, 12, dtype=dtype))


def main():
    out = OracleWriter("packing")
    add_compress_cases(out)
    add_raw_int32_cases(out)
    add_raw_fp4_cases(out)
    out.write()


if __name__ == "__main__":
    main()
