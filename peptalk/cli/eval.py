"""`peptalk eval ...`: generate a dataset, judge it, measure similarity, rank models and compare with humans."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from peptalk.cli.eval_report import report
from peptalk.cli.progress import with_progress

if TYPE_CHECKING:
    from evaluation.progress import Progress

eval_app = typer.Typer(
    name="eval",
    help="Offline evaluation: LLM judges, similarity metrics, rankings and agreement with human ratings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

ALL_JUDGES = "scorer,comparer,comparer-reason,selector"
ALL_METRICS = "tfidf,sbert,embeddings,bleu,sem-bleu,use-qa"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _names(text: str, *, known: tuple[str, ...] | list[str], what: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise _fail(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))


def generation_settings(settings: Any, template: str | None) -> Any:
    """The settings a generation run uses: with the study's `slam` prompt, the study's conditions (the models'
    own answers, no sentence budget; one temperature for every model, no catalog temperature)."""
    if template != "slam":
        return settings
    return settings.model_copy(update={"sentence_budget": None, "temperature": settings.temperature})


@contextmanager
def _bad_input() -> Iterator[None]:
    """Turns every kind of bad input (files, settings, model names) into a clear message and exit code 2."""
    from pydantic import ValidationError

    from evaluation.errors import DatasetError, HumanRatingsError
    from router.errors import ConfigError, UnknownModelError

    try:
        yield
    except (DatasetError, HumanRatingsError, ConfigError, UnknownModelError) as exc:
        raise _fail(str(exc)) from exc
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from exc


def _settings() -> Any:
    from evaluation.settings import get_eval_settings

    with _bad_input():
        return get_eval_settings()


def _load_items(dataset: Path, input_format: str, reference: str | None) -> list[Any]:
    from evaluation.loaders import load_items

    if input_format not in ("auto", "dataset", "shadow"):
        raise _fail(f"--format must be auto, dataset or shadow, not {input_format!r}")
    with _bad_input():
        return load_items(dataset, input_format=input_format, reference_model=reference)  # type: ignore[arg-type]


def _load_humans(humans: Path | None) -> list[Any] | None:
    from evaluation.humans import load_human_ratings

    if humans is None:
        return None
    with _bad_input():
        return load_human_ratings(humans)


def _contexts(path: Path) -> list[dict[str, Any]]:
    """The contexts file, each line a valid `PepTalkRequest` payload; a bad line exits 2 naming it."""
    from pydantic import ValidationError

    from peptalk.schema import PepTalkRequest

    if not path.is_file():
        raise _fail(f"{path}: no such contexts file")
    contexts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            context = json.loads(line)
            PepTalkRequest.model_validate(context)
        except json.JSONDecodeError as exc:
            raise _fail(f"{path}:{number}: not JSON: {exc.msg}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            raise _fail(f"{path}:{number}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        contexts.append(context)
    if not contexts:
        raise _fail(f"{path}: no contexts")
    return contexts


def _generate(*, models: str, reference: str | None, contexts: Path | None, prompts: int | None, repeats: int,
              keep_repeat: int, dataset_out: Path, calls_out: Path, template: str | None = None) -> list[Any]:
    from evaluation.generator import generate
    from evaluation.jsonl import write_jsonl
    from evaluation.loaders import write_dataset
    from evaluation.routing import open_router
    from peptalk.synthetic import DEFAULT_PATH

    names = [part.strip() for part in models.split(",") if part.strip()]
    if not names:
        raise _fail("--models names no model")
    if repeats < 1 or not 0 <= keep_repeat < repeats:
        raise _fail(f"--repeats must be at least 1 and --keep-repeat in 0..{repeats - 1}")
    if prompts is not None and prompts < 1:
        raise _fail("--prompts must be at least 1")
    reference_model = reference or names[0]
    if reference_model not in names:
        raise _fail(f"--reference {reference_model} is not one of --models")
    source = contexts or DEFAULT_PATH
    selected = _contexts(source)[:prompts]
    settings = generation_settings(_settings(), template)

    def work(bars: Progress) -> tuple[list[Any], list[Any]]:
        async def main() -> tuple[list[Any], list[Any]]:
            async with open_router(settings, models=names) as router:
                bars.start("generating", len(selected) * len(names) * repeats)
                return await generate(router, contexts=selected, models=names, repeats=repeats,
                                      reference_model=reference_model, keep_repeat=keep_repeat, template=template,
                                      on_call=lambda _: bars.advance())

        with _bad_input():
            return asyncio.run(main())

    items, calls = with_progress(work)
    write_dataset(dataset_out, items)
    write_jsonl(calls_out, calls)
    failed = sum(call.error is not None for call in calls)
    truncated = sum(call.truncated for call in calls)
    typer.echo(f"wrote {len(items)} prompts to {dataset_out} and {len(calls)} calls ({failed} failed, "
               f"{truncated} cut at the token limit) to {calls_out}")
    return items


def _evaluate_and_write(items: list[Any], *, out: Path, judge: str | None, judges: list[str], metrics: list[str],
                        humans: list[Any] | None, bottom_k: int | None, orders: int | None, seed: int,
                        preset: str | None = None, selector_choices: int | None = None) -> Any:
    from evaluation.pipeline import evaluate, write_outputs
    from evaluation.tables import tables_markdown

    if bottom_k is not None and bottom_k < 1:
        raise _fail("--bottom-k must be at least 1")
    if orders is not None and orders < 1:
        raise _fail("--orders must be at least 1")
    if selector_choices is not None and selector_choices < 2:
        raise _fail("--selector-choices must be at least 2")
    if preset is not None and preset not in ("slam", "hardened"):
        raise _fail(f"--judge-preset must be slam or hardened, not {preset!r}")
    settings = _settings()

    def work(bars: Progress) -> Any:
        with _bad_input():
            return asyncio.run(evaluate(items, settings=settings, judge_model=judge, judges=judges, metrics=metrics,
                                        humans=humans, bottom_k=bottom_k, orders=orders, seed=seed, progress=bars,
                                        preset=preset, selector_choices=selector_choices))

    result = with_progress(work)
    written = write_outputs(out, result)
    typer.echo(tables_markdown(result.rankings, result.agreement))
    judged = result.summary.get("judge")
    if judged:
        typer.echo(f"judge {judged['model']} ({judged['preset_version']}, temperature {judged['temperature']}): "
                   f"{judged['model_calls']} model calls, {judged['cache_hits']} cache hits")
    for name, reason in result.summary.get("unavailable", {}).items():
        typer.echo(f"{name}: unavailable ({reason})")
    typer.echo("wrote " + ", ".join(str(path) for path in written))
    return result


DATASET = typer.Option(..., "--dataset", help="Dataset JSONL, or a shadow export (see --format).")
OUT = typer.Option(..., "--out", help="Folder for scores.jsonl, rankings.json, selector.jsonl, agreement.jsonl ...")
FORMAT = typer.Option("auto", "--format", help="auto, dataset or shadow.")
REFERENCE = typer.Option(None, "--reference", help="Reference model (default: each item's reference_model).")
JUDGE = typer.Option(None, "--judge", help="Judge `backend:model` (default PEPTALK_EVAL_JUDGE_MODEL).")
ORDERS = typer.Option(None, "--orders", help="Orders per multi-choice prompt (default PEPTALK_EVAL_SELECTOR_ORDERS).")
SEED = typer.Option(0, "--seed", help="Seed of the selector's shuffled orders.")
HUMANS = typer.Option(None, "--humans", help="Human ratings CSV or JSONL: prompt_id, model, rater, score 0-10.")
BOTTOM_K = typer.Option(None, "--bottom-k", help="k of the bottom-k Jaccard (default PEPTALK_EVAL_BOTTOM_K).")
PRESET = typer.Option(None, "--judge-preset", help="slam (the study's judges) or hardened (default "
                                                   "PEPTALK_EVAL_JUDGE_PRESET).")
CHOICES = typer.Option(None, "--selector-choices", help="Answers the selector sees at once (default: the preset's; "
                                                        "slam 4, hardened all).")


@eval_app.command("generate")
def generate_command(
    models: str = typer.Option(..., "--models", help="Comma-separated `backend:model` names to ask."),
    out: Path = typer.Option(..., "--out", help="Dataset JSONL to write."),
    calls: Path | None = typer.Option(None, "--calls", help="Call records JSONL (default: calls.jsonl beside --out)."),
    reference: str | None = typer.Option(None, "--reference", help="Reference model (default: the first of --models)."),
    contexts: Path | None = typer.Option(None, "--contexts", help="Contexts JSONL (default data/contexts.jsonl)."),
    prompts: int | None = typer.Option(None, "--prompts", help="Use only the first N contexts."),
    repeats: int = typer.Option(1, "--repeats", help="Calls per prompt and model (the study used 10)."),
    keep_repeat: int = typer.Option(0, "--keep-repeat", help="Which repeat's answer the dataset keeps."),
) -> None:
    """Ask every model every prompt `repeats` times through the router; write the dataset and the timed calls."""
    _generate(models=models, reference=reference, contexts=contexts, prompts=prompts, repeats=repeats,
              keep_repeat=keep_repeat, dataset_out=out, calls_out=calls or out.parent / "calls.jsonl")


@eval_app.command("judge")
def judge_command(dataset: Path = DATASET, out: Path = OUT, input_format: str = FORMAT, reference: str | None = REFERENCE,
                  judge: str | None = JUDGE, judges: str = typer.Option(ALL_JUDGES, "--judges"),
                  orders: int | None = ORDERS, seed: int = SEED, preset: str | None = PRESET,
                  selector_choices: int | None = CHOICES) -> None:
    """Score the dataset with the LLM judges only."""
    from evaluation.judging import JUDGE_KINDS

    kinds = _names(judges, known=JUDGE_KINDS, what="judge")
    _evaluate_and_write(_load_items(dataset, input_format, reference), out=out, judge=judge, judges=kinds, metrics=[],
                        humans=None, bottom_k=None, orders=orders, seed=seed, preset=preset,
                        selector_choices=selector_choices)


@eval_app.command("similarity")
def similarity_command(dataset: Path = DATASET, out: Path = OUT, input_format: str = FORMAT,
                       reference: str | None = REFERENCE, metrics: str = typer.Option(ALL_METRICS, "--metrics")) -> None:
    """Score each response against the reference response with the similarity metrics only."""
    from evaluation.metrics import METRICS

    names = _names(metrics, known=list(METRICS), what="metric")
    _evaluate_and_write(_load_items(dataset, input_format, reference), out=out, judge=None, judges=[], metrics=names,
                        humans=None, bottom_k=None, orders=None, seed=0)


@eval_app.command("agreement")
def agreement_command(
    scores: list[Path] = typer.Option(..., "--scores", help="scores.jsonl files (repeat the option to combine)."),
    humans: Path = typer.Option(..., "--humans", help="Human ratings CSV or JSONL."),
    out: Path = OUT, bottom_k: int | None = BOTTOM_K,
    reference: list[str] = typer.Option([], "--reference",
                                        help="Reference model(s) left out of the agreement (default "
                                             "PEPTALK_REPORT_REFERENCE_MODEL)."),
) -> None:
    """Rank every evaluator in the scores files and compare each ranking with the humans' (candidates only)."""
    from evaluation.jsonl import write_jsonl
    from evaluation.pipeline import rank_and_agree
    from evaluation.scores import read_scores
    from evaluation.tables import tables_markdown

    if bottom_k is not None and bottom_k < 1:
        raise _fail("--bottom-k must be at least 1")
    with _bad_input():
        rows = [row for path in scores for row in read_scores(path)]
    ratings = _load_humans(humans)
    settings = _settings()
    rankings, agreement = rank_and_agree(rows, unavailable={}, humans=ratings, k=bottom_k or settings.eval_bottom_k,
                                         summary={}, exclude=reference or [settings.report_reference_model])
    out.mkdir(parents=True, exist_ok=True)
    (out / "rankings.json").write_text(json.dumps({name: ranking.model_dump(mode="json")
                                                   for name, ranking in rankings.items()}, indent=2) + "\n")
    write_jsonl(out / "agreement.jsonl", agreement)
    text = tables_markdown(rankings, agreement)
    (out / "tables.md").write_text(text, encoding="utf-8")
    typer.echo(text)


@eval_app.command("run")
def run_command(
    out: Path = OUT,
    dataset: Path | None = typer.Option(None, "--dataset", help="Dataset JSONL or shadow export; omit to generate one."),
    models: str | None = typer.Option(None, "--models", help="Without --dataset: models to generate a dataset from."),
    prompts: int | None = typer.Option(None, "--prompts", help="Without --dataset: the first N contexts."),
    repeats: int = typer.Option(1, "--repeats", help="Without --dataset: calls per prompt and model."),
    input_format: str = FORMAT, reference: str | None = REFERENCE, judge: str | None = JUDGE,
    judges: str = typer.Option(ALL_JUDGES, "--judges", help="Judge kinds; empty for none."),
    metrics: str = typer.Option(ALL_METRICS, "--metrics", help="Similarity metrics; empty for none."),
    orders: int | None = ORDERS, seed: int = SEED, humans: Path | None = HUMANS, bottom_k: int | None = BOTTOM_K,
    preset: str | None = PRESET, selector_choices: int | None = CHOICES,
) -> None:
    """Every step: (generate,) judge, similarity, rankings and agreement with humans, into --out."""
    from evaluation.judging import JUDGE_KINDS
    from evaluation.metrics import METRICS

    kinds = _names(judges, known=JUDGE_KINDS, what="judge")
    names = _names(metrics, known=list(METRICS), what="metric")
    ratings = _load_humans(humans)
    if dataset is not None:
        items = _load_items(dataset, input_format, reference)
    elif models:
        items = _generate(models=models, reference=reference, contexts=None, prompts=prompts, repeats=repeats,
                          keep_repeat=0, dataset_out=out / "dataset.jsonl", calls_out=out / "calls.jsonl")
    else:
        raise _fail("give --dataset, or --models to generate a dataset first")
    _evaluate_and_write(items, out=out, judge=judge, judges=kinds, metrics=names, humans=ratings, bottom_k=bottom_k,
                        orders=orders, seed=seed, preset=preset, selector_choices=selector_choices)
    if dataset is not None:
        _keep_calls(dataset, out)


def _keep_calls(dataset: Path, out: Path) -> None:
    """Copies the generator's `calls.jsonl` (beside the dataset) into --out, so `eval report --eval-dir` finds it."""
    import shutil

    calls = dataset.parent / "calls.jsonl"
    target = out / "calls.jsonl"
    if calls.is_file() and calls.resolve() != target.resolve():
        shutil.copyfile(calls, target)
        typer.echo(f"copied {calls} to {target} (timed calls for `peptalk eval report --eval-dir {out}`)")


eval_app.command("report")(report)  # issue 6: the one-command report


def _register_reproduce() -> None:
    from peptalk.cli.eval_reproduce import reproduce

    eval_app.command("reproduce")(reproduce)  # issue 15: the whole study with the paper's settings


_register_reproduce()

__all__ = ["eval_app"]
