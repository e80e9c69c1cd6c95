#!/usr/bin/env bash
# The JAX equivalence checks and the JAX training benchmark on a GPU, in one short run.
#
#   bash benchmarks/gpu_check.sh [OUTPUT_DIR]
#
# For a machine with JAX (CUDA) but no TensorFlow: Keras and its small dependencies that
# may be missing there (keras, namex, optree) are installed from wheels in .whl/ when that
# folder exists. Logs go to OUTPUT_DIR (default gpu-check/); the summary to stdout.
set -u
out=${1:-gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/zoo-site .whl/*.whl || exit 1
  export PYTHONPATH="$PYTHONPATH:/tmp/zoo-site"
fi
nvidia-smi -L
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), '| keras', keras.__version__)" \
  || exit 1

echo "== equivalence on the GPU (JAX's default float32 matmul precision)"
timeout 150 python3 tests/test_speed_equivalence.py >"$out/equivalence.json" 2>"$out/equivalence.err"
echo "exit $?"; tail -n 1 "$out/equivalence.json"; tail -n 3 "$out/equivalence.err"
if ! grep -q "(pass" "$out/equivalence.json" "$out/equivalence.err" 2>/dev/null; then
  echo "== equivalence again with full float32 matmuls (JAX_DEFAULT_MATMUL_PRECISION=highest)"
  JAX_DEFAULT_MATMUL_PRECISION=highest timeout 150 python3 tests/test_speed_equivalence.py \
    >"$out/equivalence_highest.json" 2>"$out/equivalence_highest.err"
  echo "exit $?"; tail -n 1 "$out/equivalence_highest.json"; tail -n 3 "$out/equivalence_highest.err"
fi

echo "== benchmark: python3 benchmarks/train_speed.py --backend jax --device gpu --skip-command --repeats 1"
timeout 300 python3 benchmarks/train_speed.py --backend jax --device gpu --skip-command --repeats 1 \
  >"$out/train_speed.txt" 2>"$out/train_speed.err"
echo "exit $?"; cat "$out/train_speed.txt"; tail -n 5 "$out/train_speed.err"
