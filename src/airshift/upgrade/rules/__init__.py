"""The rule registry: every rule, in the order it runs. Add a rule here and nowhere else."""

from __future__ import annotations

from airshift.upgrade.rules.arguments import ArgumentChanges
from airshift.upgrade.rules.behaviour_changes import BehaviourChanges
from airshift.upgrade.rules.bigquery import BigQueryExecuteQuery
from airshift.upgrade.rules.class_members import ClassMembers
from airshift.upgrade.rules.context_access import ContextAccess
from airshift.upgrade.rules.dag_hygiene import DagHygiene
from airshift.upgrade.rules.defaults import BehaviourDefaults
from airshift.upgrade.rules.duplicate_ids import DuplicateIds
from airshift.upgrade.rules.imports import ImportMoves
from airshift.upgrade.rules.keyword_only import KeywordOnlyArguments
from airshift.upgrade.rules.kubernetes_conversion import PythonToKubernetes
from airshift.upgrade.rules.module_functions import ModuleFunctions
from airshift.upgrade.rules.provider_arguments import ProviderChangedArguments
from airshift.upgrade.rules.removed_helpers import RemovedHelpers
from airshift.upgrade.rules.renamed_keywords import RenamedKeywords
from airshift.upgrade.rules.subdag import SubdagToTaskGroup
from airshift.upgrade.rules.task_runtime import TaskRuntimeAccess
from airshift.upgrade.rules.templates import TemplateVariables
from airshift.upgrade.rules.trigger_rules import TriggerRuleValues
from airshift.upgrade.rules.unknown_arguments import UnknownArguments

RULES = (
    ImportMoves(),
    ArgumentChanges(),
    TriggerRuleValues(),
    RemovedHelpers(),
    BigQueryExecuteQuery(),
    ProviderChangedArguments(),
    SubdagToTaskGroup(),
    TemplateVariables(),
    ContextAccess(),
    BehaviourDefaults(),
    TaskRuntimeAccess(),
    KeywordOnlyArguments(),
    ClassMembers(),
    ModuleFunctions(),
    RenamedKeywords(),
    BehaviourChanges(),
    DuplicateIds(),
    PythonToKubernetes(),  # opt-in: only with --convert python-to-kubernetes
    UnknownArguments(),
    DagHygiene(),
)
