"""``moka migrate``: in place, into an output folder, as a diff, as a dry run; reports and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from moka_provider.cli import main

MONARCH_DAG = """\
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

etl = SparkSubmitOperator(task_id="etl", application="hdfs://nn/apps/etl.jar", conf=CONF)
pi = SparkSubmitOperator(task_id="pi", application="hdfs://nn/apps/pi.jar")
"""
PLAIN = "x = 1\n"
BROKEN = "def broken(:\n"


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    (folder / "team").mkdir(parents=True)
    (folder / "etl.py").write_text(MONARCH_DAG)
    (folder / "team" / "plain.py").write_text(PLAIN)
    (folder / "team" / "query.sql").write_text("SELECT 1")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "etl.cpython-311.pyc").write_bytes(b"\0")
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_in_place(dags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", str(dags)]) == 0
    files = _files(dags)
    assert 'etl = MonarchSparkSubmitOperator(task_id="etl"' in files["etl.py"]
    assert 'pi = MokaSparkOperator(task_id="pi", application="hdfs://nn/apps/pi.jar")' in files["etl.py"]
    assert files["team/plain.py"] == PLAIN
    assert set(files) == {"etl.py", "team/plain.py", "team/query.sql"}  # no report beside the DAGs
    summary = capsys.readouterr().out.splitlines()
    assert summary[0].split() == ["file", "status", "converted", "drop-in", "needs-human", "untouched"]
    assert summary[1].split() == [str(dags / "etl.py"), "changed", "1", "1", "0", "0"]
    assert summary[2].split() == [str(dags / "team" / "plain.py"), "unchanged", "0", "0", "0", "0"]
    assert main(["migrate", str(dags)]) == 0
    assert _files(dags) == files  # idempotent


def test_output_dir_is_a_complete_dag_folder(dags: Path, tmp_path: Path) -> None:
    (dags / "etl.py").chmod(0o664)
    before = _files(dags)
    out = tmp_path / "out"
    assert main(["migrate", str(dags), "--output-dir", str(out)]) == 0
    assert _files(dags) == before
    migrated = _files(out)
    assert set(migrated) == {"etl.py", "team/plain.py", "team/query.sql"}
    assert "MokaSparkOperator" in migrated["etl.py"]
    assert migrated["team/plain.py"] == PLAIN and migrated["team/query.sql"] == "SELECT 1"
    assert (out / "etl.py").stat().st_mode & 0o777 == (dags / "etl.py").stat().st_mode & 0o777


def test_diff_writes_nothing(dags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _files(dags)
    assert main(["migrate", str(dags), "--diff"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("--- a/etl.py\n") and err.startswith("file ")  # stdout is a patch
    assert "--- a/etl.py\n+++ b/etl.py\n" in out
    assert '-pi = SparkSubmitOperator(task_id="pi", application="hdfs://nn/apps/pi.jar")\n' in out
    assert "+from moka_provider.operators.spark import MokaSparkOperator\n" in out
    assert "plain.py\n+++" not in out
    assert _files(dags) == before


def test_dry_run_prints_reports_and_writes_nothing(dags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _files(dags)
    assert main(["migrate", str(dags / "etl.py"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"# moka migrate: {dags / 'etl.py'}\n\nStatus: changed" in out
    assert '| 3 | `"etl"` | `SparkSubmitOperator` | drop-in |' in out
    assert main(["migrate", str(dags / "team"), "--dry-run"]) == 0
    assert "# moka migrate:" not in capsys.readouterr().out  # nothing to say about plain.py
    assert _files(dags) == before


def test_json_reports_on_stdout(dags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", str(dags), "--dry-run", "--report-format", "json"]) == 0
    out, err = capsys.readouterr()
    reports = json.loads(out)
    assert [(report["path"], report["status"]) for report in reports] == [
        (str(dags / "etl.py"), "changed"),
        (str(dags / "team" / "plain.py"), "unchanged"),
    ]
    assert err.startswith("file ")


def test_unparsable_file_is_reported_left_alone_and_exits_1(
    dags: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dags / "broken.py").write_text(BROKEN)
    out = tmp_path / "out"
    assert main(["migrate", str(dags), "--output-dir", str(out)]) == 1
    assert (dags / "broken.py").read_text() == BROKEN
    assert (out / "broken.py").read_text() == BROKEN  # copied: the folder stays complete
    assert "MokaSparkOperator" in (out / "etl.py").read_text()  # the others are still migrated
    captured = capsys.readouterr()
    assert f"moka migrate: {dags / 'broken.py'}: does not parse: line 1" in captured.err
    assert main(["migrate", str(dags)]) == 1
    assert (dags / "broken.py").read_text() == BROKEN


@pytest.mark.parametrize("report_format", ["md", "json"])
def test_report_dir(dags: Path, tmp_path: Path, report_format: str) -> None:
    reports = tmp_path / "reports"
    args = ["migrate", str(dags), "--dry-run", "--report-dir", str(reports), "--report-format", report_format]
    assert main(args) == 0
    written = sorted(path.relative_to(reports).as_posix() for path in reports.rglob("*") if path.is_file())
    assert written == [f"etl.py.{report_format}", f"team/plain.py.{report_format}"]
    text = (reports / f"etl.py.{report_format}").read_text()
    if report_format == "json":
        assert [task["outcome"] for task in json.loads(text)["tasks"]] == ["drop-in", "converted"]
    else:
        assert '| 4 | `"pi"` | `SparkSubmitOperator` | converted |' in text


def test_path_map_file(dags: Path, tmp_path: Path) -> None:
    options = tmp_path / "moka-migrate.yaml"
    options.write_text('path_map:\n  "hdfs://nn/apps": "s3a://lake/apps"\npriority_classes:\n  5: high\n')
    assert main(["migrate", str(dags / "etl.py"), "--path-map", str(options)]) == 0
    assert 'application="s3a://lake/apps/pi.jar"' in (dags / "etl.py").read_text()
    flat = tmp_path / "map.json"
    flat.write_text('{"hdfs://nn/": "s3a://other/"}')
    (dags / "etl.py").write_text(MONARCH_DAG)
    assert main(["migrate", str(dags / "etl.py"), "--path-map", str(flat)]) == 0
    assert 'application="s3a://other/apps/pi.jar"' in (dags / "etl.py").read_text()


def test_symlinked_dag_stays_a_symlink_and_keeps_its_mode(tmp_path: Path) -> None:
    real, link = tmp_path / "shared" / "etl.py", tmp_path / "dags" / "etl.py"
    real.parent.mkdir()
    link.parent.mkdir()
    real.write_text(MONARCH_DAG)
    real.chmod(0o640)
    link.symlink_to(real)
    assert main(["migrate", str(link.parent)]) == 0
    assert link.is_symlink() and "MokaSparkOperator" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640


def test_encoding_and_line_endings_are_kept(tmp_path: Path) -> None:
    dag = tmp_path / "latin.py"
    source = "# -*- coding: latin-1 -*-\r\n# café\r\n" + MONARCH_DAG.replace("\n", "\r\n")
    dag.write_bytes(source.encode("latin-1"))
    assert main(["migrate", str(dag)]) == 0
    data = dag.read_bytes()
    assert "# café\r\n".encode("latin-1") in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"MokaSparkOperator(" in data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "missing.py: no such file or directory"),
        (["dags", "--diff", "--output-dir", "out"], "--output-dir writes files"),
        (["dags", "--path-map", "nope.yaml"], "--path-map nope.yaml"),
        (["dags", "--output-dir", "dags/migrated"], "--output-dir dags/migrated is inside dags"),
        (["dags/etl.py", "--output-dir", "dags"], "--output-dir dags would overwrite dags/etl.py"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str],
    message: str,
    dags: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(dags.parent)
    assert main(["migrate", *args]) == 2
    assert message in capsys.readouterr().err


def test_console_script_dispatches_both_subcommands() -> None:
    for command in (["migrate", "--help"], ["local", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "moka_provider.cli", *command], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and f"usage: moka {command[0]}" in done.stdout
    with pytest.raises(SystemExit) as exit_info:
        main(["migrate"])
    assert exit_info.value.code == 2
