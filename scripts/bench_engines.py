#!/usr/bin/env python3
"""Side-by-side benchmark: unistyle (f32, bf16) against OpenVINO (fp32, bf16) and PyTorch on
the same encoder/decoder graphs, the modules of ../shared/tools/reference_wct.py exported to
ONNX. Run through scripts/bench-engines.sh, which makes the virtual environment.

Timed per size (square tubingen content, starry style, levels 3,2,1, all engines on the same
number of threads), repeats interleaved across engines, medians reported:
  encode+decode  the network work of a 3-level stylization: encoder k and decoder k at the
                 content size for k = 3, 2, 1 (the transform excluded)
  whole          unistyle's whole stylization (style encoding included) against the PyTorch
                 reference's (reference_wct.py --time)
unistyle's figure per repeat is the median of 3 runs in one process (a warm context, as in
an editor: its buffers and scratch are reused); "kernel %" is that process's kernel (system)
CPU time against all its CPU time.

--cpu picks the instruction sets of both sides, to stand in for the CPUs people own:
  native  whatever this CPU has (AMX included)
  avx512  no AMX: unistyle with UNISTYLE_CONV_AMX=off, OpenVINO with
          ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16
  avx2    unistyle with UNISTYLE_CONV_AMX=off UNISTYLE_CONV_ISA=avx2, OpenVINO with
          ONEDNN_MAX_CPU_ISA=AVX2
An engine that cannot compile the model under the cap (OpenVINO's bf16 under AVX2) is left
out of the table with its reason.
"""
import argparse, importlib.util, json, os, statistics, subprocess, sys, tempfile, time

import numpy as np
import torch


def load_reference(shared):
    spec = importlib.util.spec_from_file_location("reference_wct", os.path.join(shared, "tools/reference_wct.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def feature_shape(size, k):
    s = size
    for _ in range(k - 1):
        s = (s + 1) // 2  # ceil-mode pooling
    return s


class Torch:
    name = "PyTorch"

    def __init__(self, enc, dec):
        self.enc, self.dec = enc, dec

    def prepare(self, size):
        pass

    def run(self, x, feats):
        with torch.no_grad():
            for k in (3, 2, 1):
                self.enc[k](x)
                self.dec[k](feats[k])


class OpenVino:
    def __init__(self, enc, dec, precision, threads, workdir):
        import openvino as ov

        self.ov, self.core = ov, ov.Core()
        self.name = f"OpenVINO {precision}"
        self.config = {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        self.paths = {}
        for k in (1, 2, 3):
            for kind, net, c in (("enc", enc[k], 3), ("dec", dec[k], [64, 128, 256][k - 1])):
                path = os.path.join(workdir, f"{kind}{k}.onnx")
                if not os.path.exists(path):
                    torch.onnx.export(net, torch.zeros(1, c, 32, 32), path, input_names=["x"], output_names=["y"],
                                      dynamic_axes={"x": {2: "h", 3: "w"}}, opset_version=17, dynamo=False)
                self.paths[(kind, k)] = path
        self.compiled = {}

    def prepare(self, size):
        self.compiled = {}
        self.failed = None
        for (kind, k), path in self.paths.items():
            model = self.core.read_model(path)
            c = 3 if kind == "enc" else [64, 128, 256][k - 1]
            s = size if kind == "enc" else feature_shape(size, k)
            model.reshape({"x": [1, c, s, s]})
            try:
                self.compiled[(kind, k)] = self.core.compile_model(model, "CPU", self.config)
            except RuntimeError as e:
                self.failed = str(e).strip().splitlines()[-1][:160]
                return

    def run(self, x, feats):
        for k in (3, 2, 1):
            self.compiled[("enc", k)]([x.numpy()])
            self.compiled[("dec", k)]([feats[k].numpy()])


CPU_CAPS = {
    "native": ({}, None),
    "avx512": ({"UNISTYLE_CONV_AMX": "off"}, "AVX512_CORE_BF16"),
    "avx2": ({"UNISTYLE_CONV_AMX": "off", "UNISTYLE_CONV_ISA": "avx2"}, "AVX2"),
}


def unistyle(exe, args, size, precision, repeat):
    cmd = [exe, "bench", "--one", str(size), "--repeat", str(repeat), "--precision", precision, "--weights", args.weights,
           "--images", os.path.join(args.shared, "images")]
    env = dict(os.environ, **CPU_CAPS[args.cpu][0])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(next(l for l in out.splitlines() if l.startswith("{")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="256,512,1024")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shared", default=os.environ.get("UNISTYLE_SHARED", "../shared"))
    ap.add_argument("--weights", default="")
    ap.add_argument("--unistyle", default="target/release/unistyle")
    ap.add_argument("--no-reference", action="store_true", help="skip the whole-pipeline PyTorch reference")
    ap.add_argument("--cpu", choices=sorted(CPU_CAPS), default="native", help="instruction sets of both sides (see above)")
    a = ap.parse_args()
    isa_cap = CPU_CAPS[a.cpu][1]
    if isa_cap:
        os.environ["ONEDNN_MAX_CPU_ISA"] = isa_cap  # read by OpenVINO's oneDNN when it loads
    a.weights = a.weights or os.path.join(a.shared, "weights/wct-vgg19-relu3.safetensors")
    torch.set_num_threads(a.threads)
    ref = load_reference(a.shared)
    enc, dec = ref.load_nets(os.path.join(a.shared, "weights/upstream"))
    workdir = tempfile.mkdtemp(prefix="unistyle-bench-")
    engines = [Torch(enc, dec), OpenVino(enc, dec, "f32", a.threads, workdir), OpenVino(enc, dec, "bf16", a.threads, workdir)]
    print(f"threads {a.threads}, repeats {a.repeat} (medians), cpu {a.cpu}, load {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for size in [int(s) for s in a.sizes.split(",")]:
        img = ref.load_img(os.path.join(a.shared, f"images/content/tubingen_{size}.png")) if os.path.exists(
            os.path.join(a.shared, f"images/content/tubingen_{size}.png")) else torch.rand(3, size, size)
        x = img.unsqueeze(0)
        with torch.no_grad():
            feats = {k: enc[k](x) for k in (1, 2, 3)}
        for e in engines:
            e.prepare(size)
            if getattr(e, "failed", None):
                print(f"{e.name} left out at {size}²: {e.failed}", flush=True)
                continue
            e.run(x, feats)  # warm-up
        live = [e for e in engines if not getattr(e, "failed", None)]
        times = {e.name: [] for e in engines}
        ours = {"f32": [], "bf16": []}
        for _ in range(a.repeat):
            for e in live:
                t0 = time.perf_counter()
                e.run(x, feats)
                times[e.name].append(time.perf_counter() - t0)
            for p in ours:
                ours[p].append(unistyle(a.unistyle, a, size, p, 3))
        row = {"size": size}
        for name, t in times.items():
            row[name] = statistics.median(t) if t else float("nan")
        for p, runs in ours.items():
            row[f"unistyle {p}"] = statistics.median(r["encode_s"] + r["decode_s"] for r in runs)
            row[f"unistyle {p} whole"] = statistics.median(r["total_s"] for r in runs)
            row[f"unistyle {p} stages"] = {k: statistics.median(r[k] for r in runs) for k in ("style_s", "encode_s", "transform_s", "decode_s")}
            row[f"unistyle {p} kernel %"] = statistics.median(100 * r["sys_s"] / (r["user_s"] + r["sys_s"]) for r in runs)
        if not a.no_reference:
            out = subprocess.run([sys.executable, os.path.join(a.shared, "tools/reference_wct.py"), "--weights",
                                  os.path.join(a.shared, "weights/upstream"), "--images", os.path.join(a.shared, "images"),
                                  "--time", str(size)], capture_output=True, text=True)
            line = next((l for l in out.stdout.splitlines() if "median_s" in l), None)
            row["reference whole"] = json.loads(line)["median_s"] if line else float("nan")
        rows.append(row)
        print(json.dumps(row), flush=True)
    names = ["unistyle f32", "unistyle bf16", "OpenVINO f32", "OpenVINO bf16", "PyTorch"]
    print("\nencode+decode of a 3-level stylization, seconds (median)")
    print("| size | " + " | ".join(names) + " | f32 / OV bf16 | bf16 / OV bf16 | f32 / OV f32 | bf16 speed-up |")
    print("|---" * (len(names) + 5) + "|")
    for r in rows:
        ov = r["OpenVINO bf16"]
        print(f"| {r['size']}² | " + " | ".join(f"{r[n]:.3f}" for n in names)
              + f" | {r['unistyle f32'] / ov:.2f} | {r['unistyle bf16'] / ov:.2f} | {r['unistyle f32'] / r['OpenVINO f32']:.2f}"
              + f" | {r['unistyle f32'] / r['unistyle bf16']:.2f} |")
    if not a.no_reference:
        print("\nwhole stylization (style encoding included), seconds (median)")
        print("| size | unistyle f32 | unistyle bf16 | PyTorch reference | f32 / reference | bf16 / reference |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            ref_t = r["reference whole"]
            print(f"| {r['size']}² | {r['unistyle f32 whole']:.3f} | {r['unistyle bf16 whole']:.3f} | {ref_t:.3f} | "
                  f"{r['unistyle f32 whole'] / ref_t:.2f} | {r['unistyle bf16 whole'] / ref_t:.2f} |")
    print("\nunistyle per stage, seconds (median): style, content encode, transform, decode; kernel % of the process's CPU")
    for r in rows:
        for p in ("f32", "bf16"):
            s = r[f"unistyle {p} stages"]
            print(f"  {r['size']}² {p}: {s['style_s']:.3f} {s['encode_s']:.3f} {s['transform_s']:.3f} {s['decode_s']:.3f}"
                  f"; kernel {r[f'unistyle {p} kernel %']:.1f} %")


if __name__ == "__main__":
    main()
