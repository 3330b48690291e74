"""TransactWriteItems without copying whole tables.

moto's ``DynamoDBBackend.transact_write_items`` deep-copies every table a transaction
touches before it starts, so that it can put the copy back if the transaction fails: with
50,000 products one checkout takes seconds. This is moto's method line by line (conditions
checked and actions applied item by item in request order, a failed condition recorded and
the remaining actions still run, so the CancellationReasons are exactly moto's, duplicate
items and validation errors raised as they are), except that the rollback restores only the
item slots the transaction touched (:class:`UndoLog`). One deliberate difference: moto
raises ``TransactWriteSingleOpException`` (an item with two operations) outside its
rollback, leaving the earlier actions applied; here every failure rolls back.
``moto_internals.check`` refuses to start when moto's method is not the one copied here.

Thread safety: the server runs one request at a time.
"""

from __future__ import annotations

import copy
from typing import Any

from cloudstore.localdynamo import moto_internals as mi
from cloudstore.localdynamo.patches.replacement import Replacement


class UndoLog:
    """The previous version of every item slot a transaction touches, to put back on failure.

    A slot is remembered once, before the first action on it, as the Item then stored there
    (a deep copy when the action may update it in place) or None if there was none."""

    __slots__ = ("slots",)

    def __init__(self) -> None:
        self.slots: dict[tuple[int, Any, Any], tuple[Any, Any, Any, Any]] = {}

    def remember(self, table: Any, hash_value: Any, range_value: Any, in_place: bool) -> None:
        slot = (id(table), hash_value, range_value)
        if slot in self.slots:
            return
        old = mi.get_slot(table, hash_value, range_value)
        if old is not None and in_place:
            old = copy.deepcopy(old)
        self.slots[slot] = (table, hash_value, range_value, old)

    def rollback(self) -> None:
        for table, hash_value, range_value, old in reversed(self.slots.values()):
            if old is None:
                mi.clear_slot(table, hash_value, range_value)
            else:
                mi.set_slot(table, old)


class FastTransactions(Replacement):
    """Installed with :meth:`install` (the server process only)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.rollbacks = 0

    def install(self) -> FastTransactions:
        return self.replace(mi.backend_class(), "transact_write_items")

    def transact_write_items(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        exceptions = mi.transact_exceptions()
        if len(transact_items) > 100:
            raise exceptions.TooManyTransactionsException()
        self.calls += 1
        undo = UndoLog()
        try:
            self._apply(backend, transact_items, undo)
        except BaseException:
            self.rollbacks += 1
            undo.rollback()
            raise

    @staticmethod
    def _apply(backend: Any, transact_items: list[dict[str, Any]], undo: UndoLog) -> None:
        """moto 5.2.5's loop; the comments marked "undo" are the only additions."""
        exceptions = mi.transact_exceptions()
        get_filter_expression = mi.filter_expression
        ConditionalCheckFailed = exceptions.ConditionalCheckFailed  # noqa: N806 - moto's names
        MockValidationException = exceptions.MockValidationException  # noqa: N806
        MultipleTransactionsException = exceptions.MultipleTransactionsException  # noqa: N806
        TransactionCanceledException = exceptions.TransactionCanceledException  # noqa: N806
        TransactWriteSingleOpException = exceptions.TransactWriteSingleOpException  # noqa: N806

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException

            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get(
                    "ReturnValuesOnConditionCheckFailure"
                )
                conditions = {
                    "condition_expression": condition_expression,
                    "expression_attribute_names": expression_attribute_names,
                    "expression_attribute_values": expression_attribute_values,
                }

                if op_type == "Put":
                    attrs = op["Item"]
                    table = backend.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                # undo: backend.get_item below does exactly these two calls (so they raise
                # what it would raise) and every action writes only this slot
                table = backend.get_table(table_name)
                hash_value, range_value = backend.get_keys_value(table, key)
                undo.remember(table, hash_value, range_value, in_place=op_type == "Update")

                current = backend.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression,
                        expression_attribute_names,
                        expression_attribute_values,
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type == "Put":
                    attrs = op["Item"]
                    backend.put_item(table_name, attrs, **conditions)
                elif op_type == "Delete":
                    backend.delete_item(table_name, key, **conditions)
                elif op_type == "Update":
                    update_expression = op["UpdateExpression"]
                    backend.update_item(
                        table_name,
                        key,
                        update_expression=update_expression,
                        **conditions,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise  # undo: the caller rolls back
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # moto: "For other exceptions, capture their details"
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)  # undo: the caller rolls back
