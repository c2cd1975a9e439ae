"""Terraform plan guard: plan parsing, type mapping, edges, the check and the tf-check gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.importers.terraform import component_type, load_plan, plan_to_topologies
from faultray_lab.scenarios.plan_gate import check_plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "terraform" / "plan-multi-az.json"


# ---------------------------------------------------------------------------------------------
# synthetic plans
# ---------------------------------------------------------------------------------------------
def rc(address: str, rtype: str, actions: str | list[str], before: dict | None = None,
       after: dict | None = None, **extra: object) -> dict:
    """One resource_changes entry; before/after default to each other for no-op and update."""
    acts = [actions] if isinstance(actions, str) else list(actions)
    if before is None and after is not None and acts != ["create"]:
        before = after
    if after is None and before is not None and acts != ["delete"]:
        after = before
    if acts == ["create"]:
        before = None
    if acts == ["delete"]:
        after = None
    return {"address": address, "type": rtype, "mode": "managed",
            "name": address.split(".")[-1].split("[")[0],
            "change": {"actions": acts, "before": before, "after": after}, **extra}


def plan(*changes: dict, **top: object) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.9.5",
            "resource_changes": list(changes), **top}


LB = {"subnets": ["subnet-a", "subnet-b"], "load_balancer_type": "application"}


def web_stack(db_before: dict, db_after: dict, svc_before: int = 2, svc_after: int = 2) -> dict:
    """A load balancer, an ECS service and an RDS database; only the given fields change."""
    return plan(
        rc("aws_lb.web", "aws_lb", "no-op", LB),
        rc("aws_ecs_service.api", "aws_ecs_service",
           "no-op" if svc_before == svc_after else "update",
           {"desired_count": svc_before}, {"desired_count": svc_after}),
        rc("aws_db_instance.main", "aws_db_instance",
           "no-op" if db_before == db_after else "update", db_before, db_after),
    )


NOOP = web_stack({"multi_az": False}, {"multi_az": False})
MULTI_AZ = web_stack({"multi_az": False, "engine": "postgres"},
                     {"multi_az": True, "engine": "postgres"})
SCALE_DOWN = web_stack({"multi_az": True}, {"multi_az": True}, svc_before=2, svc_after=1)


def edges(topo) -> list[tuple[str, str, str]]:
    return [(d.source, d.target, d.type) for d in topo.dependencies]


# ---------------------------------------------------------------------------------------------
# before / after membership
# ---------------------------------------------------------------------------------------------
def test_noop_plan_has_identical_before_and_after():
    before, after = plan_to_topologies(NOOP)
    assert before.ids == after.ids == ("aws_lb.web", "aws_ecs_service.api",
                                       "aws_db_instance.main")
    assert before.components == after.components
    assert before.dependencies == after.dependencies


def test_actions_decide_the_side():
    p = plan(
        rc("aws_instance.old", "aws_instance", "delete", {"instance_type": "t3.micro"}),
        rc("aws_instance.new", "aws_instance", "create", after={"instance_type": "t3.micro"}),
        rc("aws_instance.swap", "aws_instance", ["delete", "create"], {"ami": "a"}, {"ami": "b"}),
        rc("aws_instance.swap2", "aws_instance", ["create", "delete"], {"ami": "a"}, {"ami": "b"}),
        rc("aws_instance.kept", "aws_instance", "update", {"ami": "a"}, {"ami": "b"}),
        rc("aws_instance.same", "aws_instance", "no-op", {"ami": "a"}),
        rc("aws_instance.forgotten", "aws_instance", "forget", {"ami": "a"}),
    )
    before, after = plan_to_topologies(p)
    assert "aws_instance.old" in before.ids and "aws_instance.old" not in after.ids
    assert "aws_instance.new" in after.ids and "aws_instance.new" not in before.ids
    both = {"aws_instance.swap", "aws_instance.swap2", "aws_instance.kept", "aws_instance.same",
            "aws_instance.forgotten"}
    assert both <= set(before.ids) and both <= set(after.ids)
    actions = {c.address: c.action for c in load_plan(p).changes}
    assert actions["aws_instance.swap"] == actions["aws_instance.swap2"] == "replace"


def test_deleting_a_resource_removes_it_from_after_only():
    kept = web_stack({"multi_az": False}, {"multi_az": False})
    deleted = plan(*kept["resource_changes"][:2],
                   rc("aws_db_instance.main", "aws_db_instance", "delete", {"multi_az": False}))
    b0, a0 = plan_to_topologies(kept)
    b1, a1 = plan_to_topologies(deleted)
    assert b1.ids == b0.ids and b1.components == b0.components  # before is untouched
    assert a1.ids == ("aws_lb.web", "aws_ecs_service.api")
    assert all("aws_db_instance.main" not in (d.source, d.target) for d in a1.dependencies)
    assert ("aws_ecs_service.api", "aws_db_instance.main", "requires") in edges(b1)


def test_data_source_read_is_on_both_sides():
    p = plan({"address": "data.aws_db_instance.shared", "mode": "data",
              "type": "aws_db_instance", "name": "shared",
              "change": {"actions": ["read"], "before": None, "after": {"multi_az": True}}},
             rc("aws_instance.app", "aws_instance", "no-op", {"ami": "a"}))
    before, after = plan_to_topologies(p)
    assert before.components == after.components
    assert before.component("data.aws_db_instance.shared").replicas == 2
    assert edges(before) == [("aws_instance.app", "data.aws_db_instance.shared", "requires")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["aws_instance", "aws_db_instance", "aws_lb",
                                           "aws_elasticache_cluster", "aws_iam_role"]),
                          st.sampled_from([["no-op"], ["create"], ["update"], ["delete"],
                                           ["delete", "create"], ["read"]]),
                          st.integers(1, 4)), max_size=8))
def test_membership_property(resources):
    """Before holds exactly the resources that exist before; no-op ones are identical."""
    changes = [rc(f"{t}.r{i}", t, acts, {"desired_count": n}, {"desired_count": n})
               for i, (t, acts, n) in enumerate(resources)]
    p = load_plan(plan(*changes))
    mapped = {f"{t}.r{i}": acts for i, (t, acts, _) in enumerate(resources)
              if t != "aws_iam_role"}
    assert set(p.before.ids) == {a for a, acts in mapped.items() if acts != ["create"]}
    assert set(p.after.ids) == {a for a, acts in mapped.items() if acts != ["delete"]}
    modelled = [c for c in p.changes if c.component_type is not None]
    for c in modelled:
        if c.action == "no-op":
            assert p.before.component(c.address) == p.after.component(c.address)
    assert {s["address"] for s in p.skipped} == {c.address for c in p.changes
                                                 if c.component_type is None}


# ---------------------------------------------------------------------------------------------
# type mapping and replicas
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rtype, values, ctype, replicas, failover", [
    ("aws_ecs_service", {"desired_count": 3}, "app_server", 3, False),
    ("aws_autoscaling_group", {"desired_capacity": 4, "min_size": 2, "max_size": 6},
     "app_server", 4, False),
    ("aws_db_instance", {"multi_az": True}, "database", 2, True),
    ("aws_db_instance", {"multi_az": False}, "database", 1, False),
    ("aws_elasticache_cluster", {"num_cache_nodes": 3}, "cache", 3, False),
    ("aws_elasticache_replication_group", {"num_cache_clusters": 2,
                                           "automatic_failover_enabled": True}, "cache", 2, True),
    ("aws_eks_node_group", {"scaling_config": [{"desired_size": 5}]}, "app_server", 5, False),
    ("aws_lb", {"subnets": ["a", "b", "c"]}, "load_balancer", 3, False),
    ("aws_instance", {}, "app_server", 1, False),
    ("aws_lambda_function", {}, "serverless", 2, True),
    ("aws_sqs_queue", {}, "queue", 2, True),
    ("aws_s3_bucket", {}, "storage", 2, True),
    ("aws_route53_record", {}, "dns", 2, True),
    ("google_sql_database_instance", {"settings": [{"availability_type": "REGIONAL"}]},
     "database", 2, True),
    ("google_sql_database_instance", {"settings": [{"availability_type": "ZONAL"}]},
     "database", 1, False),
    ("google_redis_instance", {"tier": "STANDARD_HA"}, "cache", 2, True),
    ("google_redis_instance", {"tier": "STANDARD_HA", "replica_count": 2}, "cache", 3, True),
    ("google_compute_region_instance_group_manager", {"target_size": 3}, "app_server", 3, False),
    ("google_container_node_pool", {"node_count": 4}, "app_server", 4, False),
    ("google_compute_forwarding_rule", {}, "load_balancer", 1, False),
    ("azurerm_linux_virtual_machine_scale_set", {"instances": 3}, "app_server", 3, False),
    ("azurerm_kubernetes_cluster", {"default_node_pool": [{"node_count": 3}]},
     "app_server", 3, False),
    ("azurerm_postgresql_flexible_server", {"high_availability": [{"mode": "ZoneRedundant"}]},
     "database", 2, True),
    ("azurerm_mssql_database", {"zone_redundant": True}, "database", 2, True),
    ("azurerm_redis_cache", {"capacity": 2}, "cache", 1, False),  # capacity is a size, not a count
    ("azurerm_application_gateway", {"sku": [{"capacity": 2}]}, "load_balancer", 2, False),
    ("azurerm_dns_a_record", {}, "dns", 2, True),
])
def test_type_mapping_and_replicas(rtype, values, ctype, replicas, failover):
    assert component_type(rtype) == ctype
    _, after = plan_to_topologies(plan(rc(f"{rtype}.x", rtype, "no-op", values)))
    c = after.component(f"{rtype}.x")
    assert (c.type, c.replicas, c.failover) == (ctype, replicas, failover)


def test_zero_desired_count_is_one_replica():
    _, after = plan_to_topologies(plan(rc("aws_ecs_service.s", "aws_ecs_service", "no-op",
                                          {"desired_count": 0})))
    assert after.component("aws_ecs_service.s").replicas == 1


def test_count_instances_form_one_component():
    p = plan(*[rc(f"aws_instance.web[{i}]", "aws_instance", "no-op", {"ami": "a"}, index=i)
               for i in range(3)],
             rc('aws_instance.api["blue"]', "aws_instance", "delete", {"ami": "a"}, index="blue"),
             rc('aws_instance.api["green"]', "aws_instance", "no-op", {"ami": "a"},
                index="green"))
    before, after = plan_to_topologies(p)
    assert before.ids == after.ids == ("aws_instance.web", "aws_instance.api")
    assert before.component("aws_instance.web").replicas == 3
    assert (before.component("aws_instance.api").replicas,
            after.component("aws_instance.api").replicas) == (2, 1)


def test_unknown_after_values_keep_the_before_value():
    change = rc("aws_ecs_service.s", "aws_ecs_service", "update", {"desired_count": 3},
                {"desired_count": None})
    change["change"]["after_unknown"] = {"desired_count": True}
    _, after = plan_to_topologies(plan(change))
    assert after.component("aws_ecs_service.s").replicas == 3


def test_unknown_types_are_listed_as_skipped():
    p = load_plan(plan(rc("aws_iam_role.exec", "aws_iam_role", "create", after={}),
                       rc("aws_instance.app", "aws_instance", "no-op", {}),
                       rc("random_pet.name", "random_pet", "no-op", {})))
    assert p.after.ids == ("aws_instance.app",)
    assert [(s["address"], s["action"]) for s in p.skipped] == [
        ("aws_iam_role.exec", "create"), ("random_pet.name", "no-op")]
    assert all("not mapped" in s["reason"] for s in p.skipped)


# ---------------------------------------------------------------------------------------------
# edges
# ---------------------------------------------------------------------------------------------
def test_type_rule_edges():
    _, after = plan_to_topologies(plan(
        rc("aws_route53_record.www", "aws_route53_record", "no-op", {}),
        rc("aws_lb.web", "aws_lb", "no-op", LB),
        rc("aws_ecs_service.api", "aws_ecs_service", "no-op", {"desired_count": 2}),
        rc("aws_db_instance.main", "aws_db_instance", "no-op", {}),
        rc("aws_elasticache_cluster.c", "aws_elasticache_cluster", "no-op", {}),
        rc("aws_sqs_queue.jobs", "aws_sqs_queue", "no-op", {}),
        rc("aws_s3_bucket.assets", "aws_s3_bucket", "no-op", {})))
    assert edges(after) == [
        ("aws_route53_record.www", "aws_lb.web", "requires"),
        ("aws_lb.web", "aws_ecs_service.api", "requires"),
        ("aws_ecs_service.api", "aws_db_instance.main", "requires"),
        ("aws_ecs_service.api", "aws_elasticache_cluster.c", "optional"),
        ("aws_ecs_service.api", "aws_sqs_queue.jobs", "async"),
    ]


def _config(resources: list[dict], module_calls: dict | None = None) -> dict:
    root: dict = {"resources": resources}
    if module_calls:
        root["module_calls"] = module_calls
    return {"root_module": root}


def _cres(address: str, **expressions: list[str]) -> dict:
    t, n = address.split(".")[-2:]
    return {"address": address, "mode": "managed", "type": t, "name": n,
            "expressions": {k: {"references": v} for k, v in expressions.items()}}


def test_configuration_references_add_edges():
    p = plan(rc("aws_lambda_function.resize", "aws_lambda_function", "no-op", {}),
             rc("aws_s3_bucket.images", "aws_s3_bucket", "no-op", {}),
             rc("aws_instance.bastion", "aws_instance", "no-op", {}),
             configuration=_config([
                 _cres("aws_lambda_function.resize",
                       environment=["aws_s3_bucket.images.id", "aws_s3_bucket.images",
                                    "var.region"]),
                 _cres("aws_s3_bucket.images"), _cres("aws_instance.bastion")]))
    before, after = plan_to_topologies(p)
    assert edges(after) == edges(before) == [
        ("aws_lambda_function.resize", "aws_s3_bucket.images", "requires")]


def test_references_never_reverse_a_type_rule_edge():
    p = plan(rc("aws_lb.web", "aws_lb", "no-op", LB),
             rc("aws_instance.a", "aws_instance", "no-op", {}),
             rc("aws_instance.b", "aws_instance", "no-op", {}),
             rc("aws_db_instance.d", "aws_db_instance", "no-op", {}),
             configuration=_config([_cres("aws_instance.a", tags=["aws_lb.web.dns_name"]),
                                    _cres("aws_lb.web"), _cres("aws_instance.b"),
                                    _cres("aws_db_instance.d", x=["aws_instance.b.id"])]))
    assert edges(plan_to_topologies(p)[1]) == [
        ("aws_lb.web", "aws_instance.a", "requires"), ("aws_lb.web", "aws_instance.b", "requires"),
        ("aws_instance.a", "aws_db_instance.d", "requires"),
        ("aws_instance.b", "aws_db_instance.d", "requires")]


def test_module_outputs_and_variables_resolve_to_resources():
    p = plan(rc("aws_instance.app", "aws_instance", "no-op", {}),
             {**rc("module.files.aws_s3_bucket.b", "aws_s3_bucket", "no-op", {}),
              "module_address": "module.files"},
             {**rc("module.worker.aws_lambda_function.f", "aws_lambda_function", "no-op", {}),
              "module_address": "module.worker"},
             rc("aws_efs_file_system.shared", "aws_efs_file_system", "no-op", {}),
             configuration=_config(
                 [_cres("aws_instance.app", user_data=["module.files.bucket_name",
                                                       "module.files"]),
                  _cres("aws_efs_file_system.shared")],
                 {"files": {"module": {"resources": [_cres("aws_s3_bucket.b")],
                                       "outputs": {"bucket_name": {"expression": {
                                           "references": ["aws_s3_bucket.b.id"]}}}}},
                  "worker": {"expressions": {"fs": {"references": [
                      "aws_efs_file_system.shared.id"]}},
                      "module": {"resources": [_cres("aws_lambda_function.f",
                                                     file_system_config=["var.fs"])]}}}))
    after = plan_to_topologies(p)[1]
    assert ("aws_instance.app", "module.files.aws_s3_bucket.b", "requires") in edges(after)
    assert ("module.worker.aws_lambda_function.f", "aws_efs_file_system.shared",
            "requires") in edges(after)


def test_attribute_values_carrying_an_endpoint_add_edges():
    p = plan(rc("aws_instance.app", "aws_instance", "no-op",
                {"user_data": "DATABASE_URL=postgres://u@files.abc123.efs.amazonaws.com/x"}),
             rc("aws_efs_file_system.files", "aws_efs_file_system", "no-op",
                {"dns_name": "files.abc123.efs.amazonaws.com", "id": "fs-0123456789"}),
             rc("aws_ebs_volume.disk", "aws_ebs_volume", "no-op", {"id": "vol-0123456789"}),
             rc("aws_instance.other", "aws_instance", "no-op", {"volume": "vol-0123456789"}))
    assert edges(plan_to_topologies(p)[1]) == [
        ("aws_instance.app", "aws_efs_file_system.files", "requires"),
        ("aws_instance.other", "aws_ebs_volume.disk", "requires")]


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
STATE = {"format_version": "1.0", "terraform_version": "1.9.5",
         "values": {"root_module": {"resources": []}}}
RAW_STATE = {"version": 4, "terraform_version": "1.9.5", "serial": 3, "lineage": "abc",
             "outputs": {}, "resources": []}
BAD_PLANS = {
    "empty": "",
    "blank": "  \n",
    "not_json": "Terraform will perform the following actions:\n",
    "truncated": json.dumps(NOOP)[:120],
    "state": json.dumps(STATE),
    "raw_state": json.dumps(RAW_STATE),
    "rc_not_list": json.dumps({"resource_changes": {"aws_lb.web": {}}}),
    "top_level_list": "[1, 2]",
    "no_resource_changes": json.dumps({"hello": 1}),
    "bad_actions": json.dumps(plan(rc("aws_lb.web", "aws_lb", "explode", LB))),
    "entry_not_object": json.dumps({"resource_changes": ["aws_lb.web"]}),
    "missing_type": json.dumps({"resource_changes": [{"address": "x.y", "change": {
        "actions": ["no-op"]}}]}),
    "after_not_object": json.dumps(plan(rc("aws_lb.web", "aws_lb", "create", after=[1]))),
    "duplicate": json.dumps(plan(rc("aws_lb.web", "aws_lb", "no-op", LB),
                                 rc("aws_lb.web", "aws_lb", "no-op", LB))),
    "binary": b"\x80\x81\x00tfplan",
    "errored": json.dumps({**NOOP, "errored": True}),
}


@pytest.mark.parametrize("name", sorted(BAD_PLANS))
def test_bad_plans_exit_2_with_one_message(name, tmp_path, capsys):
    f = tmp_path / f"{name}.json"
    data = BAD_PLANS[name]
    f.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(InputError) as err:
        load_plan(f)
    assert str(f) in str(err.value) and "Fix:" in str(err.value)
    assert main(["tf-check", str(f), "--fail-on-regression"]) == 2
    out, errout = capsys.readouterr()
    assert out == ""
    assert len(errout.strip().splitlines()) == 1 and "Traceback" not in errout


def test_bad_plan_messages_name_the_problem(tmp_path):
    def message(data: str) -> str:
        f = tmp_path / "p.json"
        f.write_text(data)
        with pytest.raises(InputError) as err:
            load_plan(f)
        return str(err.value)

    assert "empty" in message("")
    assert "state file" in message(BAD_PLANS["state"])
    assert "state file" in message(BAD_PLANS["raw_state"])
    assert "truncated" in message(BAD_PLANS["truncated"])
    assert "resource_changes: must be a list" in message(BAD_PLANS["rc_not_list"])
    assert "not valid JSON" in message(BAD_PLANS["not_json"])


def test_missing_and_unreadable_files_exit_2(tmp_path, capsys):
    assert main(["tf-check", str(tmp_path / "nope.json")]) == 2
    assert main(["tf-check", str(tmp_path)]) == 2
    errout = capsys.readouterr().err
    assert "file not found" in errout and "directory" in errout and "Traceback" not in errout


def test_bad_cli_options_exit_2(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps(NOOP))
    for bad in (["--min-score", "nan"], ["--min-score", "150"], ["--rules", "nope"]):
        assert main(["tf-check", str(f), *bad]) == 2  # main returns the code, never exits
    with pytest.raises(InputError):
        check_plan(NOOP, min_score=float("nan"))


def test_plan_inputs_dict_text_and_path(tmp_path):
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(NOOP))
    topos = [plan_to_topologies(x) for x in (NOOP, json.dumps(NOOP), f, str(f))]
    assert all(t[1].components == topos[0][1].components for t in topos)
    empty = {"format_version": "1.2", "planned_values": {}, "configuration": {}}
    assert plan_to_topologies(empty)[0].ids == ()


# ---------------------------------------------------------------------------------------------
# the check and the gate
# ---------------------------------------------------------------------------------------------
def _write(tmp_path: Path, data: dict, name: str = "plan.json") -> str:
    f = tmp_path / name
    f.write_text(json.dumps(data))
    return str(f)


def test_noop_plan_is_neutral(tmp_path, capsys):
    r = check_plan(NOOP, fail_on_regression=True)
    assert r.score_delta == 0.0 and r.score_before == r.score_after
    assert r.spofs_added == r.spofs_removed == r.critical_added == r.critical_removed == ()
    assert r.changes == () and r.recommendation["level"] == "safe" and r.passed
    assert main(["tf-check", _write(tmp_path, NOOP), "--fail-on-regression"]) == 0
    assert "gate: passed" in capsys.readouterr().out


def test_multi_az_on_is_an_improvement(tmp_path):
    r = check_plan(MULTI_AZ, fail_on_regression=True)
    assert r.score_delta >= 0
    assert "aws_db_instance.main" in r.spofs_removed and r.spofs_added == ()
    assert r.critical_added == ()
    (change,) = r.changes
    assert (change["address"], change["replicas_before"], change["replicas_after"]) == (
        "aws_db_instance.main", 1, 2)
    assert change["spof_before"] and not change["spof_after"] and change["risk"] == "low"
    assert r.recommendation["level"] == "safe"
    assert main(["tf-check", _write(tmp_path, MULTI_AZ), "--fail-on-regression"]) == 0


def test_scaling_the_service_to_one_replica_is_a_regression(tmp_path, capsys):
    r = check_plan(SCALE_DOWN, fail_on_regression=True)
    assert r.spofs_added == ("aws_ecs_service.api",) and r.score_delta < 0
    assert r.changes[0]["risk"] == "high" and "single point of failure" in r.changes[0]["reason"]
    assert r.recommendation["level"] == "high risk" and not r.passed
    path = _write(tmp_path, SCALE_DOWN)
    assert main(["tf-check", path, "--fail-on-regression"]) == 1
    assert "gate: FAILED" in capsys.readouterr().out
    assert main(["tf-check", path]) == 0  # without the flag the gate only reports


def test_min_score_gate(tmp_path):
    path = _write(tmp_path, NOOP)
    score = check_plan(NOOP).score_after
    assert main(["tf-check", path, "--min-score", str(score)]) == 0
    assert main(["tf-check", path, "--min-score", str(min(100.0, score + 0.5))]) == 1
    r = check_plan(NOOP, min_score=100)
    assert not r.passed and "below the minimum" in r.gate["reasons"][0]


def test_json_output_has_the_documented_keys(tmp_path, capsys):
    assert main(["tf-check", _write(tmp_path, SCALE_DOWN), "--json",
                 "--fail-on-regression"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"score_before", "score_after", "score_delta", "spofs_added", "spofs_removed",
            "critical_added", "critical_removed", "changes", "skipped_resources",
            "recommendation", "gate"} <= set(out)
    assert out["gate"]["passed"] is False and out["recommendation"]["level"] == "high risk"
    assert out["score_delta"] == out["score_after"] - out["score_before"]


def test_deleting_a_depended_on_database_is_high_risk():
    p = plan(*NOOP["resource_changes"][:2],
             rc("aws_db_instance.main", "aws_db_instance", "delete", {"multi_az": False}))
    r = check_plan(p)
    (change,) = r.changes
    assert change["action"] == "delete" and change["replicas_after"] is None
    assert change["risk"] == "high" and "depend on" in change["reason"]
    assert r.recommendation["level"] == "high risk"


def test_unmodelled_changes_ask_for_review():
    p = plan(*NOOP["resource_changes"],
             rc("aws_security_group.web", "aws_security_group", "update", {"a": 1}, {"a": 2}))
    r = check_plan(p, fail_on_regression=True)
    assert r.passed and r.recommendation["level"] == "review"
    assert r.changes[-1]["risk"] == "unmodelled"
    assert r.skipped_resources[0]["address"] == "aws_security_group.web"


def test_new_components_and_other_rule_set():
    created = plan(*[{**c, "change": {"actions": ["create"], "before": None,
                                      "after": c["change"]["after"]}}
                     for c in NOOP["resource_changes"]])
    r = check_plan(created, rules="faultray-v11")
    assert r.plan is not None and r.plan.before.ids == ()
    assert r.score_before == 0.0 and r.score_after > 0  # an empty system scores 0
    assert r.spofs_added == ("aws_db_instance.main",)
    assert check_plan(created, rules="faultray-v11").to_dict() == r.to_dict()  # deterministic


@pytest.mark.parametrize("name, code", [("plan-multi-az.json", 0), ("plan-scale-down.json", 1)])
def test_readme_examples(name, code, capsys):
    """The README's commands on the example plans."""
    assert main(["tf-check", str(EXAMPLE.parent / name), "--fail-on-regression"]) == code
    out = capsys.readouterr().out
    assert "not modelled: 2 resource(s)" in out
    assert ("SPOFs removed: 1 (aws_db_instance.main)" in out) == (code == 0)
    assert ("SPOFs added: 1 (aws_ecs_service.api)" in out) == (code == 1)


def test_readme_output_block_matches_the_command(capsys):
    """Every line of the README's tf-check output block (other than '...') is printed."""
    readme = (EXAMPLE.parents[2] / "README.md").read_text()
    block = readme.split("<!-- tf-check output: tests/test_terraform.py checks these lines -->")
    assert len(block) == 2, "the README's tf-check output block is missing"
    lines = block[1].split("```")[1].strip().splitlines()
    assert main(["tf-check", str(EXAMPLE.parent / "plan-scale-down.json"),
                 "--fail-on-regression"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [ln for ln in lines if ln != "..."] == [ln for ln in out if ln in lines]


def test_adding_a_managed_queue_is_safe():
    """A new scenario that only extends an already critical one is not a new critical one."""
    r = check_plan(plan(*NOOP["resource_changes"],
                        rc("aws_sqs_queue.new", "aws_sqs_queue", "create", after={})),
                   fail_on_regression=True)
    assert r.score_delta == 0 and r.spofs_added == () and r.critical_added == ()
    assert r.passed and r.recommendation["level"] == "safe"


def test_deposed_objects_are_not_components():
    db = {"multi_az": True}
    p = plan(*NOOP["resource_changes"][:2],
             rc("aws_db_instance.main", "aws_db_instance", ["create", "delete"], db, db),
             {**rc("aws_db_instance.main", "aws_db_instance", "delete", db),
              "deposed": "00000001"})
    tp = load_plan(p)
    assert tp.before.component("aws_db_instance.main").replicas == 2  # not 2 + the stale copy
    assert tp.skipped[0]["address"] == "aws_db_instance.main" and "deposed" in \
        tp.skipped[0]["reason"]
    r = check_plan(p)
    assert [c["risk"] for c in r.changes] == ["medium", "low"]


def test_addresses_without_name_fields_and_module_instances():
    p = plan({"address": 'module.app["eu"].aws_instance.web[0]', "type": "aws_instance",
              "module_address": 'module.app["eu"]', "change": {"actions": ["no-op"],
                                                               "before": {}, "after": {}}},
             {"address": 'module.app["eu"].aws_instance.web[1]', "type": "aws_instance",
              "module_address": 'module.app["eu"]', "change": {"actions": ["no-op"],
                                                               "before": {}, "after": {}}},
             {"address": 'module.app["us"].aws_instance.web[0]', "type": "aws_instance",
              "module_address": 'module.app["us"]', "change": {"actions": ["create"],
                                                               "before": None, "after": {}}})
    before, after = plan_to_topologies(p)
    assert before.ids == ('module.app["eu"].aws_instance.web',)
    assert after.ids == ('module.app["eu"].aws_instance.web', 'module.app["us"].aws_instance.web')
    assert after.component('module.app["eu"].aws_instance.web').replicas == 2
