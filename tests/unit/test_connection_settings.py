"""MokaSettings.from_extras: the checks a ``moka`` connection's extras go through, and the links."""

from __future__ import annotations

import pytest

from moka_provider.settings import (
    LINK_FIELDS,
    ConnectionSettingsError,
    MokaSettings,
)


def test_empty_extras_give_defaults():
    settings = MokaSettings.from_extras({})

    assert settings.namespace == "default"
    assert settings.queue is None
    assert settings.service_account is None
    assert dict(settings.images) == {}
    assert dict(settings.versions) == {}
    assert dict(settings.link_templates) == {}


def test_plain_values_are_read():
    settings = MokaSettings.from_extras(
        {
            "namespace": "team-a",
            "queue": "batch",
            "service_account": "spark-runner",
            "spark_version": "3.5.1",
            "ray_version": "2.9.0",
        }
    )

    assert settings.namespace == "team-a"
    assert settings.queue == "batch"
    assert settings.service_account == "spark-runner"
    assert dict(settings.versions) == {"spark": "3.5.1", "ray": "2.9.0"}


@pytest.mark.parametrize("value", ["", "   ", "\t\n", None])
def test_blank_strings_are_unset(value):
    settings = MokaSettings.from_extras(
        {
            "namespace": value,
            "queue": value,
            "service_account": value,
            "spark_image": value,
            "flink_version": value,
            "moka_ui_url": value,
        }
    )

    assert settings.namespace == "default"
    assert settings.queue is None
    assert settings.service_account is None
    assert "spark" not in settings.images
    assert "flink" not in settings.versions
    assert "moka_ui" not in settings.link_templates


def test_values_are_stripped():
    settings = MokaSettings.from_extras({"namespace": "  team-a ", "queue": " batch\n"})

    assert settings.namespace == "team-a"
    assert settings.queue == "batch"


@pytest.mark.parametrize(
    "namespace",
    ["Team-A", "team_a", "-team", "team-", "team.a", "a" * 64, "späť"],
)
def test_invalid_namespace_names_the_field(namespace):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"namespace": namespace})

    assert caught.value.field_name == "namespace"
    assert "'namespace'" in str(caught.value)
    assert repr(namespace) in str(caught.value)


@pytest.mark.parametrize("namespace", ["a", "a" * 63, "team-a", "0team", "x1-2-3"])
def test_valid_namespaces_are_accepted(namespace):
    assert MokaSettings.from_extras({"namespace": namespace}).namespace == namespace


@pytest.mark.parametrize(
    ("field_name", "value", "type_name"),
    [
        ("namespace", 5, "int"),
        ("queue", ["a"], "list"),
        ("service_account", {"name": "x"}, "dict"),
        ("spark_image", False, "bool"),
        ("ray_version", 2.9, "float"),
        ("spark_ui_url", 0, "int"),
    ],
)
def test_non_text_values_are_rejected_with_the_field_name(field_name, value, type_name):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({field_name: value})

    assert caught.value.field_name == field_name
    assert repr(field_name) in str(caught.value)
    assert type_name in str(caught.value)


def test_connection_settings_error_is_a_value_error():
    assert issubclass(ConnectionSettingsError, ValueError)


# --- images ---------------------------------------------------------------------------------------


def test_image_with_arch_placeholder_is_filled():
    settings = MokaSettings.from_extras(
        {
            "spark_image": "registry.invalid/spark:3.5.1-{arch}",
            "flink_image": "registry.invalid/flink:1.18",
        }
    )

    assert settings.image_for("spark") == "registry.invalid/spark:3.5.1-amd64"
    assert settings.image_for("spark", "arm64") == "registry.invalid/spark:3.5.1-arm64"
    # A template without {arch} serves every architecture unchanged.
    assert settings.image_for("flink", "arm64") == "registry.invalid/flink:1.18"
    assert settings.image_for("ray") is None


def test_image_for_unknown_engine_raises():
    settings = MokaSettings.from_extras({"spark_image": "img:{arch}"})

    with pytest.raises(ValueError, match="unknown engine 'dask'"):
        settings.image_for("dask")


def test_image_for_unknown_architecture_raises():
    settings = MokaSettings.from_extras({"spark_image": "img:{arch}"})

    with pytest.raises(ValueError, match="unknown architecture 'x86_64'"):
        settings.image_for("spark", "x86_64")


@pytest.mark.parametrize(
    ("template", "placeholder"),
    [
        ("registry.invalid/spark:{version}-{arch}", "{version}"),
        ("registry.invalid/spark:{name}", "{name}"),
        ("registry.invalid/spark:{0}", "{0}"),
    ],
)
def test_unknown_placeholder_in_image_names_field_and_placeholder(template, placeholder):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"spark_image": template})

    assert caught.value.field_name == "spark_image"
    message = str(caught.value)
    assert "'spark_image'" in message
    assert placeholder in message


def test_malformed_image_template_raises():
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"ray_image": "rayproject/ray:{arch"})

    assert caught.value.field_name == "ray_image"
    assert "not a valid template" in str(caught.value)


def test_positional_placeholder_in_image_is_rejected_at_load():
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"spark_image": "registry.invalid/spark:{}"})

    assert caught.value.field_name == "spark_image"


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "placeholder"),
    [
        ("https://ui.invalid/{namespace}/{application}", "{application}"),
        ("https://ui.invalid/{arch}", "{arch}"),
        ("https://ui.invalid/{name.upper}", "{name.upper}"),
    ],
)
def test_unknown_placeholder_in_link_names_field_and_placeholder(template, placeholder):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"moka_ui_url": template})

    assert caught.value.field_name == "moka_ui_url"
    message = str(caught.value)
    assert "'moka_ui_url'" in message
    assert placeholder in message
    assert "unknown placeholder" in message


@pytest.mark.parametrize("template", ["https://x/{name", "https://x/name}", "https://x/{name}}"])
def test_malformed_link_template_raises(template):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"spark_history_url": template})

    assert caught.value.field_name == "spark_history_url"
    assert "not a valid template" in str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "ui.invalid/{namespace}/{name}",
        "/relative/{name}",
        "ftp://ui.invalid/{name}",
        "HTTP//ui.invalid",
    ],
)
def test_non_url_link_is_rejected(template):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"log_archive_url": template})

    assert caught.value.field_name == "log_archive_url"
    assert "not an absolute URL" in str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "http://ui.invalid/{name}",
        "https://ui.invalid/{name}",
        "s3://bucket/{namespace}/{name}",
        "gs://bucket/{name}",
        "file:///var/log/{name}",
    ],
)
def test_absolute_urls_are_accepted(template):
    assert MokaSettings.from_extras({"log_archive_url": template}).link_templates == {"log_archive": template}


def test_every_link_field_is_read():
    extras = {field_name: f"https://{link}.invalid/{{name}}" for link, field_name in LINK_FIELDS.items()}

    settings = MokaSettings.from_extras(extras)

    assert set(settings.link_templates) == set(LINK_FIELDS)
    for link in LINK_FIELDS:
        assert settings.link(link, name="job-1") == f"https://{link}.invalid/job-1"


def test_link_without_template_is_none():
    settings = MokaSettings.from_extras({"moka_ui_url": "https://ui.invalid/{name}"})

    assert settings.link("spark_ui", name="job-1") is None


def test_link_is_formatted():
    settings = MokaSettings.from_extras(
        {"spark_ui_url": "https://spark.invalid/{namespace}/{name}/{spark_app_id}/jobs"}
    )

    url = settings.link("spark_ui", namespace="team-a", name="pi", spark_app_id="spark-0001", pod="pi-driver")

    assert url == "https://spark.invalid/team-a/pi/spark-0001/jobs"


def test_link_template_without_placeholders_needs_no_params():
    settings = MokaSettings.from_extras({"moka_ui_url": "https://ui.invalid/home"})

    assert settings.link("moka_ui") == "https://ui.invalid/home"


@pytest.mark.parametrize("missing", [None, ""])
def test_link_needing_an_absent_param_is_none(missing):
    settings = MokaSettings.from_extras({"spark_ui_url": "https://spark.invalid/{namespace}/{spark_app_id}"})

    assert settings.link("spark_ui", namespace="team-a", spark_app_id=missing) is None
    assert settings.link("spark_ui", namespace="team-a") is None
    assert settings.link("spark_ui", namespace="team-a", spark_app_id="app-1") == (
        "https://spark.invalid/team-a/app-1"
    )


def test_link_uses_a_placeholder_repeated_in_the_template():
    settings = MokaSettings.from_extras(
        {"ray_dashboard_url": "https://{ray_cluster}.invalid/#/{ray_cluster}"}
    )

    assert settings.link("ray_dashboard", ray_cluster="rc-1") == "https://rc-1.invalid/#/rc-1"


@pytest.mark.parametrize(
    "template",
    ["https://ui.invalid/{}", "https://ui.invalid/{name!z}", "https://ui.invalid/{name:{pod}}"],
)
def test_unfillable_link_template_is_rejected_at_load(template):
    with pytest.raises(ConnectionSettingsError) as caught:
        MokaSettings.from_extras({"moka_ui_url": template})

    assert caught.value.field_name == "moka_ui_url"


@pytest.mark.parametrize("field", ["moka_ui_url", "spark_ui_url", "job_log_url", "ray_dashboard_url"])
def test_a_link_button_template_must_be_http(field: str) -> None:
    with pytest.raises(ConnectionSettingsError, match=f"'{field}'.*browsers"):
        MokaSettings.from_extras({field: "s3://bucket/{namespace}/{name}"})
    assert MokaSettings.from_extras({"log_archive_url": "s3://bucket/{namespace}/{pod}.log"}).link_templates
