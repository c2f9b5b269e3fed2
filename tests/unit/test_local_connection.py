"""The ``moka`` connection `moka local` hands out: what Airflow makes of its URI, and MokaSettings."""

from __future__ import annotations

from pathlib import Path

import pytest

from moka_provider.data import PYSPARK_FUNCTION_RUNNER, SPARK_JDBC_RUNNER, SPARK_SQL_RUNNER
from moka_provider.local import engines
from moka_provider.local.kubeconfig import connection_uri
from moka_provider.settings import MokaSettings

NOT_INSTALLED = {
    "spark_version": "3.5.0",
    "spark_image": "moka-local/spark:3.5.0-{arch}",
    "flink_version": "v1_19",
    "flink_image": "moka-local/flink:1.19.0-{arch}",
    "ray_version": "2.9.0",
    "ray_image": "moka-local/ray:2.9.0-{arch}",
}


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine cache without engines, so that the versions do not depend on this machine."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MOKA_CACHE_DIR", str(cache))
    return cache


def airflow_extras(uri: str) -> dict[str, str]:
    from airflow.models import Connection

    connection = Connection(conn_id="moka_default", uri=uri)
    assert connection.conn_type == "moka"
    extras: dict[str, str] = connection.extra_dejson
    # Also through Airflow's JSON form of a connection (secrets backends, `airflow connections`).
    assert Connection.from_json(connection.as_json(), conn_id="again").extra_dejson == extras
    return extras


def test_uri_round_trips_through_airflow(tmp_path: Path) -> None:
    from airflow.models import Connection

    archive = tmp_path / "state dir" / "log-archive"  # a space, escaped in the URL

    uri = connection_uri(Path("/home/me/.moka/local/kubeconfig"), "moka", archive)

    extras = airflow_extras(uri)

    assert extras == {
        "kube_config_path": "/home/me/.moka/local/kubeconfig",
        "namespace": "moka",
        "log_archive_url": f"file://{tmp_path}/state%20dir/log-archive/{{namespace}}/{{pod}}.log",
        **NOT_INSTALLED,
        "spark_sql_runner": "local://" + str(SPARK_SQL_RUNNER.path.resolve()),
        "spark_jdbc_runner": "local://" + str(SPARK_JDBC_RUNNER.path.resolve()),
        "pyspark_function_runner": "local://" + str(PYSPARK_FUNCTION_RUNNER.path.resolve()),
    }
    assert Path(extras["spark_sql_runner"].removeprefix("local://")).is_file()
    assert Path(extras["spark_jdbc_runner"].removeprefix("local://")).is_file()
    # Airflow's own URI of it too (which writes plain query values: fine for these).
    again = Connection(conn_id="again", uri=Connection(conn_id="moka_default", uri=uri).get_uri())
    assert again.extra_dejson == extras
    settings = MokaSettings.from_extras(extras)
    assert settings.namespace == "moka"
    assert dict(settings.versions) == {"spark": "3.5.0", "flink": "v1_19", "ray": "2.9.0"}
    assert settings.image_for("spark", "arm64") == "moka-local/spark:3.5.0-arm64"
    assert settings.image_for("ray") == "moka-local/ray:2.9.0-amd64"
    assert settings.link("log_archive", namespace="moka", name="pi", pod="pi-driver") == (
        f"file://{tmp_path}/state%20dir/log-archive/moka/pi-driver.log"
    )


def test_braces_in_the_state_dir_are_not_placeholders(tmp_path: Path) -> None:
    archive = tmp_path / "{odd}" / "log-archive"

    extras = airflow_extras(connection_uri(Path("/k"), "moka", archive))

    assert extras["log_archive_url"] == f"file://{tmp_path}/%7Bodd%7D/log-archive/{{namespace}}/{{pod}}.log"
    assert MokaSettings.from_extras(extras).link("log_archive", namespace="n", pod="p") == (
        f"file://{tmp_path}/%7Bodd%7D/log-archive/n/p.log"
    )


@pytest.mark.parametrize("namespace", ["2024", "null", "true", "1e3"])
def test_values_that_look_like_json_stay_text(namespace: str) -> None:
    """Airflow reads a URI query value as JSON when it can: "2024" would become a number."""
    extras = airflow_extras(connection_uri(Path("/k"), namespace))

    assert extras["namespace"] == namespace
    assert MokaSettings.from_extras(extras).namespace == namespace


def test_uri_is_plain_query_values_with_the_namespace_last() -> None:
    """Readable, and extended by appending (``&queue=...``, or "x" to the namespace in a test)."""
    uri = connection_uri(Path("/k"), "moka", Path("/state/log-archive"))

    assert uri.startswith("moka://?kube_config_path=%2Fk&log_archive_url=file%3A%2F%2F%2Fstate%2F")
    assert uri.endswith("&namespace=moka")
    assert airflow_extras(uri + "&queue=root.ads")["queue"] == "root.ads"


def test_without_archive_or_local_engines() -> None:
    assert airflow_extras(connection_uri(Path("/k"), "moka", local_engines=False)) == {
        "kube_config_path": "/k",
        "namespace": "moka",
    }
    assert "log_archive_url" not in airflow_extras(connection_uri(Path("/k"), "moka"))


def test_versions_of_installed_engines(empty_cache: Path) -> None:
    """An installed engine reports the version its virtualenv holds."""
    for engine, distribution, version in [("spark", "pyspark", "4.0.1"), ("flink", "apache_flink", "2.1.0")]:
        site_packages = empty_cache / "engines" / engine / "lib" / "python3.11" / "site-packages"
        metadata = site_packages / f"{distribution}-{version}.dist-info"
        metadata.mkdir(parents=True)
        (metadata / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        (empty_cache / "engines" / engine / ".installed").write_text("whatever\n")

    assert engines.connection_extras() == {
        "spark_version": "4.0.1",
        "spark_image": "moka-local/spark:4.0.1-{arch}",
        "flink_version": "v2_1",
        "flink_image": "moka-local/flink:2.1.0-{arch}",
        "ray_version": "2.9.0",
        "ray_image": "moka-local/ray:2.9.0-{arch}",
    }


def test_the_log_server_port_gives_the_job_log_button_an_http_url() -> None:
    extras = airflow_extras(
        connection_uri(Path("/k"), "moka", Path("/state/log-archive"), log_server_port=4242)
    )
    settings = MokaSettings.from_extras(extras)
    assert (
        settings.link("job_log", namespace="moka", pod="pi-driver")
        == "http://127.0.0.1:4242/moka/pi-driver.log"
    )
    assert (
        settings.link("log_archive", namespace="moka", pod="pi-driver")
        == "file:///state/log-archive/moka/pi-driver.log"
    )
