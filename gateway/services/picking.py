"""Picking at a store: the pick list, a short pick, and the customer's answer to the
substitutes offered (gateway.domain.picking decides what is due and what may stand in).

A short pick (``report``) means units the order holds at the store are not on its shelf.
Square's count is already right about them: the order's own sale took them off it, and they
were never there to pick. What becomes of them:

* a delivery order (or a pickup order whose customer accepted a transfer, before it was
  announced ready) is re-routed when another node can fill the missing units
  (gateway.governance.short_hold_reroute, with no restock: the units were not there);
* otherwise up to PICKING__SUBSTITUTES SKUs of the same category, priced within the band and
  available at the store, are offered; the customer hears of it by mail (the notification
  port) and answers with ``respond`` (or a store associate or support agent answers for
  them);
* with nothing to offer, the missing units are dropped from the order at once.

An answer moves every system: accepted, the order's line gives up the missing units and a
line of the substitute takes them at the original price, the store's hold shrinks and one
is taken on the substitute (the hold taker refuses units no longer there), Square records
the substitute's sale; declined (or dropped), the units leave the order, its hold and its
total. Either way Shopify's order is edited (orderEdit), a web order gets a note (and, when
units are dropped, a refund of them), the timeline says so and the customer is mailed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.config import PickingSettings
from gateway.domain import Location, Money, SourceSystem
from gateway.domain.acting import actor
from gateway.domain.documents import OmsLineChange, WebRefundDraft, WebRefundLine
from gateway.domain.orders import Order, OrderEvent, OrderStatus
from gateway.domain.outbox import EditOmsOrder, OutboxMessage, RefundWebOrder, UpdateWebOrder
from gateway.domain.picking import (
    Candidate,
    PickLine,
    PickTask,
    ShortPickOutcome,
    Substitution,
    SubstitutionStatus,
    line_changes,
    pick_order,
    promised_by,
    short_by,
    substitutes,
)
from gateway.domain.reservations import HoldRequest, ReservationLine
from gateway.errors import BadUserInput, IllegalTransition, NotFound
from gateway.governance.short_hold_reroute import ShortHoldReroute
from gateway.governance.short_holds import Shortfall
from gateway.notifications.messages import mail_message, promise_changed
from gateway.ports import Clock, ErpPort, PosPort, UnitOfWork, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService
from gateway.services.commands import Command, Commands
from gateway.services.orders.draft import confirmed_holds
from gateway.services.orders.lifecycle import oms_told
from gateway.services.orders.placement import Allocation
from gateway.services.orders.web_orders import web_refund_line
from gateway.services.orders.writes import oms_create_reference
from gateway.services.reservations import HoldPolicy, ReservationService, new_id
from gateway.services.source_writes import commit_messages

TO_PICK = (OrderStatus.ALLOCATED, OrderStatus.PICKING)
CATEGORY_PAGE = 100
CATEGORY_LIMIT = 1_000  # catalogue entries of a category looked at for substitutes


@dataclass(frozen=True, slots=True)
class ShortPick:
    outcome: ShortPickOutcome
    order: Order
    substitution: Substitution | None
    detail: str


class PickingService:
    def __init__(
        self,
        commands: Commands,
        uow: UnitOfWorkFactory,
        availability: AvailabilityService,
        catalog: CatalogService,
        erp: ErpPort,
        pos: PosPort,
        holds: ReservationService,
        reroute: ShortHoldReroute | None,
        clock: Clock,
        settings: PickingSettings,
        hold_policy: HoldPolicy,
        *,
        mails_customers: bool = False,
    ) -> None:
        self._commands = commands
        self._uow = uow
        self._availability = availability
        self._catalog = catalog
        self._erp = erp
        self._pos = pos
        self._holds = holds
        self._reroute = reroute
        self._clock = clock
        self._settings = settings
        self._hold_policy = hold_policy
        self._mails = mails_customers

    # --- the pick list -------------------------------------------------------------------

    async def pick_list(self, location_id: str) -> list[PickTask]:
        node = await self._availability.location(location_id)
        async with self._uow(read_only=True) as uow:
            orders = await uow.orders.open_at_node(node.id, TO_PICK)
        skus = sorted({line.sku for order in orders for line in order.lines})
        items, variations = await asyncio.gather(
            self._erp.items_by_sku(skus),
            self._pos.variations_by_sku(skus) if node.source is SourceSystem.POS else _none(),
        )
        settings = self._settings
        tasks = []
        for order in orders:
            lines = tuple(
                PickLine(
                    line.sku,
                    items[line.sku].name if line.sku in items else line.sku,
                    line.quantity,
                    getattr(variations.get(line.sku), "shelf", None),
                )
                for line in order.lines
                if line.location_id == node.id
            )
            if not lines:
                continue
            tasks.append(
                PickTask(
                    order.id,
                    order.channel,
                    order.status.value,
                    order.customer_name,
                    order.created_at,
                    promised_by(
                        order.channel,
                        order.created_at,
                        timedelta(hours=settings.pickup_ready_hours),
                        timedelta(hours=settings.ship_within_hours),
                    ),
                    lines,
                )
            )
        return pick_order(tasks)

    # --- a short pick --------------------------------------------------------------------

    async def report(self, order_id: str, sku: str, found: int, key: str) -> ShortPick:
        command = Command(
            "reportShortPick",
            key,
            {"orderId": order_id, "sku": sku, "found": found},
            order_id,
            _short_pick_of,
            skus=lambda _: (),
        )
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replayed
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
            offers = (await uow.substitutions.of_orders([order_id]))[order_id]
        if order is None:
            raise NotFound(f"No order {order_id!r}", field="orderId")
        if order.status not in TO_PICK:
            raise IllegalTransition(
                f"order {order_id} is {order.status.value}: only an order being picked "
                "(ALLOCATED, PICKING) can be short",
                status=order.status.value,
            )
        store, ordered = await self._line_at_store(order, sku)
        try:
            missing = short_by(ordered, found)
        except ValueError as error:
            raise BadUserInput(str(error), field="found") from None
        if any(o.sku == sku and o.status is SubstitutionStatus.OFFERED for o in offers):
            raise BadUserInput(
                f"{sku} of {order_id} already waits for the customer's answer", field="sku"
            )
        rerouted = await self._rerouted(order, sku, store, missing)
        if rerouted is not None:
            return await self._commands.run(command, _rerouted_pick(order.id, rerouted))
        price = next(line.unit_price for line in order.lines if line.sku == sku)
        offered = await self._substitutes(store, sku, price.amount, missing)
        now = self._clock.now()
        offer = Substitution(
            new_id("sub"),
            order.id,
            store.id,
            sku,
            missing,
            tuple(c.sku for c in offered),
            SubstitutionStatus.OFFERED,
            now,
        )

        async def change(uow: UnitOfWork, now: datetime) -> ShortPick:
            current = await uow.orders.get(order.id, for_update=True)
            if current is None or current.status not in TO_PICK:
                raise IllegalTransition(f"order {order.id} moved on meanwhile")
            await uow.substitutions.add(replace(offer, offered_at=now))
            if offered:
                names = ", ".join(offer.offered)
                what = (
                    f"{missing} x {sku} of your order could not be found at {store.name}. "
                    f"We can give you instead, at the same price: {names}. Tell us which "
                    f"one (substitution {offer.id}), or decline and those units are "
                    "dropped from your order."
                )
                await _told(uow, current, now, "SHORT_PICK", what, self._mails)
                outcome = ShortPickOutcome.SUBSTITUTES_OFFERED
            else:
                what = (
                    f"{missing} x {sku} of your order could not be found at {store.name} "
                    "and nothing like it is in stock there: they are dropped from your order."
                )
                answered = replace(
                    offer,
                    status=SubstitutionStatus.DECLINED,
                    answered_at=now,
                    answered_by="gateway",
                )
                await uow.substitutions.save(answered)
                await self._apply(uow, current, answered, store, None, now, what)
                outcome = ShortPickOutcome.DROPPED
            return await _short_pick_of(uow, current.id, outcome=outcome, detail=what)

        return await self._commands.run(command, change)

    async def respond(self, substitution_id: str, substitute: str | None, key: str) -> Substitution:
        offer = await self.offer(substitution_id)
        command = Command(
            "respondToSubstitution",
            key,
            {"id": substitution_id, "substituteSku": substitute},
            substitution_id,
            _substitution_of,
            skus=lambda _: [s for s in (offer.sku, substitute) if s],
        )
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replayed
        if offer.status is not SubstitutionStatus.OFFERED:
            raise IllegalTransition(
                f"substitution {offer.id} is {offer.status.value} already",
                status=offer.status.value,
            )
        if substitute is not None and substitute not in offer.offered:
            raise BadUserInput(
                f"{substitute} was not offered; choose one of {', '.join(offer.offered)}",
                field="substituteSku",
            )
        store = await self._availability.location(offer.location_id)
        taking = None
        if substitute is not None:
            lines = (ReservationLine(substitute, offer.missing),)
            plans, source = await self._holds.plans_and_figures(lines, store)
            taking = (Allocation(store, new_id("res"), lines, plans), source)

        async def change(uow: UnitOfWork, now: datetime) -> Substitution:
            current = await uow.substitutions.get(offer.id, for_update=True)
            order = await uow.orders.get(offer.order_id, for_update=True)
            if current is None or order is None or current.status is not SubstitutionStatus.OFFERED:
                raise IllegalTransition(f"substitution {offer.id} was answered meanwhile")
            answered = replace(
                current,
                status=(
                    SubstitutionStatus.DECLINED
                    if substitute is None
                    else SubstitutionStatus.ACCEPTED
                ),
                chosen=substitute,
                answered_at=now,
                answered_by=actor(),
            )
            await uow.substitutions.save(answered)
            what = (
                f"{offer.missing} x {offer.sku} of your order are dropped, as you asked."
                if substitute is None
                else f"{offer.missing} x {substitute} stand in for {offer.missing} x "
                f"{offer.sku} in your order, at the same price."
            )
            await self._apply(uow, order, answered, store, taking, now, what)
            return answered

        return await self._commands.run(command, change)

    async def offer(self, substitution_id: str) -> Substitution:
        async with self._uow(read_only=True) as uow:
            found = await uow.substitutions.get(substitution_id)
        if found is None:
            raise NotFound(f"No substitution {substitution_id!r}", field="id")
        return found

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[Substitution]]:
        async with self._uow(read_only=True) as uow:
            return await uow.substitutions.of_orders(order_ids)

    # --- helpers -------------------------------------------------------------------------

    async def _line_at_store(self, order: Order, sku: str) -> tuple[Location, int]:
        """The store that holds ``sku`` for the order, and how many units."""
        for line in order.lines:
            if line.sku != sku or line.location_id is None:
                continue
            node = await self._availability.location(line.location_id)
            if node.source is SourceSystem.POS:
                held = sum(
                    x.quantity for x in order.lines if x.sku == sku and x.location_id == node.id
                )
                return node, held
        raise BadUserInput(f"{order.id} holds no {sku} at a store", field="sku")

    async def _rerouted(self, order: Order, sku: str, store: Location, missing: int) -> str | None:
        """Another node fills the missing units, as a sentence; None when none can."""
        if self._reroute is None:
            return None
        async with self._uow(read_only=True) as uow:
            holds = await uow.reservations.order_holds([order.status.value])
        hold = next(
            (
                h
                for h in holds
                if h.order_id == order.id and h.sku == sku and h.location_id == store.id
            ),
            None,
        )
        if hold is None:
            return None
        short = Shortfall(order.id, sku, store.id, missing, hold.quantity)
        moved = await self._reroute.reroute(order, short, hold, sold_at_till=False)
        if moved is None:
            return None
        return f"{missing} x {sku} now come from {', '.join(moved.to_ids)}"

    async def _substitutes(
        self, store: Location, sku: str, price: Decimal, missing: int
    ) -> list[Candidate]:
        item = (await self._erp.items_by_sku([sku])).get(sku)
        category = None if item is None else item.category
        if category is None or self._settings.substitutes == 0:
            return []
        skus: list[str] = []
        offset = 0
        while offset < CATEGORY_LIMIT:
            listed = await self._catalog.page(
                offset=offset, limit=CATEGORY_PAGE, search=None, category=category
            )
            skus += [s for s in listed.skus if s != sku]
            offset = listed.next_offset
            if not listed.has_next_page:
                break
        if not skus:
            return []
        items, kits, variations, rows = await asyncio.gather(
            self._erp.items_by_sku(skus),
            self._availability.kits(skus),
            self._pos.variations_by_sku(skus),
            self._availability.by_node(skus, location_ids=[store.id]),
        )
        candidates = []
        for candidate in skus:
            if candidate in kits or candidate not in items:
                continue
            node = rows.get(candidate, {}).get(store.id)
            if node is None:
                continue
            variation = variations.get(candidate)
            shelf_price = None if variation is None else variation.price_at(store.source_ref)
            shelf_price = shelf_price or items[candidate].list_price
            candidates.append(
                Candidate(
                    candidate,
                    items[candidate].category,
                    None if shelf_price is None else shelf_price.amount,
                    node.available_to_promise,
                )
            )
        return substitutes(
            sku,
            category,
            price,
            missing,
            candidates,
            self._settings.substitute_price_band,
            self._settings.substitutes,
        )

    async def _apply(
        self,
        uow: UnitOfWork,
        order: Order,
        answered: Substitution,
        store: Location,
        taking: tuple[Allocation, dict] | None,
        now: datetime,
        what: str,
    ) -> None:
        """The order, its holds and every system follow the answer."""
        line = next(x for x in order.lines if x.sku == answered.sku)
        price = line.unit_price
        changes = line_changes(answered.sku, answered.missing, answered.chosen)
        await uow.orders.change_units(order.id, store.id, changes, price)
        reservation = next(
            (
                r
                for r in await uow.reservations.confirmed_of_order(order.id)
                if r.location_id == store.id and any(x.sku == answered.sku for x in r.lines)
            ),
            None,
        )
        if reservation is not None:
            await uow.reservations.shrink_hold(
                reservation.id, answered.sku, store.id, answered.missing
            )
        messages: list[OutboxMessage] = []
        if taking is not None and answered.chosen is not None:
            allocation, source = taking
            (held,) = confirmed_holds(order, [allocation], now, self._hold_policy.max_ttl)
            await uow.holds.take(HoldRequest(held, allocation.plans, store, source), now=now)
            messages += commit_messages(
                ordering_key=order.id,
                reference=f"{order.id}@{store.id}:{answered.id}",
                location=store,
                plans=allocation.plans,
                customer=self._hold_policy.erp_customer,
                prices={answered.chosen: price},
                now=now,
            )
        if await oms_told(uow, order.id):
            messages.append(
                EditOmsOrder(
                    ordering_key=order.id,
                    reference=f"{order.id}:oms-edit:{answered.id}",
                    order_id=order.id,
                    create_reference=oms_create_reference(order.id),
                    changes=tuple(OmsLineChange(sku, delta) for sku, delta in changes),
                )
            )
        messages += await self._web_follows(uow, order, answered, price)
        await uow.outbox.add(messages, now)
        await _told(uow, order, now, "SUBSTITUTION", what, self._mails)

    async def _web_follows(
        self, uow: UnitOfWork, order: Order, answered: Substitution, price: Money
    ) -> list[OutboxMessage]:
        web_order_id = next(
            (s.id for s in order.systems if s.system is SourceSystem.STOREFRONT), None
        )
        if web_order_id is None:
            return []
        chosen = answered.chosen
        note = f"{answered.missing} x {answered.sku} not found at the store; " + (
            "dropped" if chosen is None else f"{chosen} given instead at the same price"
        )
        follows: list[OutboxMessage] = [
            UpdateWebOrder(
                ordering_key=order.id,
                reference=f"{order.id}:web-note:{answered.id}",
                web_order_id=int(web_order_id),
                status=None,
                note=note,
                customer_note=False,
            )
        ]
        if chosen is None:
            figures = await uow.orders.web_lines(order.id)
            web_line = next((x.web_line_id for x in order.lines if x.sku == answered.sku), None)
            amount = Money(price.amount * answered.missing, price.currency)
            lines: tuple[WebRefundLine, ...] = ()
            if web_line is not None:
                web = figures.get(web_line)
                lines = (web_refund_line(web, answered.missing, amount),) if web is not None else ()
            follows.append(
                RefundWebOrder(
                    ordering_key=order.id,
                    reference=f"{answered.id}:refund",
                    return_id=answered.id,
                    web_order_id=int(web_order_id),
                    draft=WebRefundDraft(
                        reference=answered.id,
                        amount=amount,
                        lines=lines,
                        reason=f"Not found when picking: {answered.missing} x {answered.sku}",
                    ),
                )
            )
        return follows


async def _none() -> dict:
    return {}


async def _told(
    uow: UnitOfWork, order: Order, now: datetime, kind: str, what: str, mails: bool
) -> None:
    await uow.orders.add_event(order.id, OrderEvent(now, kind, SourceSystem.GATEWAY, detail=what))
    if mails and order.customer_email:
        event = f"{kind.lower()}:{int(now.timestamp() * 1000)}"
        await uow.outbox.add([mail_message(order.id, promise_changed(order, event, what))], now)


def _rerouted_pick(
    order_id: str, what: str
) -> Callable[[UnitOfWork, datetime], Awaitable[ShortPick]]:
    """The re-route made its own changes; the command records the short pick's answer."""

    async def change(uow: UnitOfWork, now: datetime) -> ShortPick:
        return await _short_pick_of(uow, order_id, outcome=ShortPickOutcome.REROUTED, detail=what)

    return change


async def _short_pick_of(
    uow: UnitOfWork,
    order_id: str,
    *,
    outcome: ShortPickOutcome | None = None,
    detail: str = "",
) -> ShortPick:
    order = await uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"No order {order_id!r}")
    offers = (await uow.substitutions.of_orders([order_id]))[order_id]
    latest = offers[-1] if offers else None
    if outcome is None:  # a replay: what the first answer made, as it is now
        outcome = (
            ShortPickOutcome.SUBSTITUTES_OFFERED
            if latest is not None and latest.offered
            else ShortPickOutcome.DROPPED
            if latest is not None
            else ShortPickOutcome.REROUTED
        )
    return ShortPick(outcome, order, latest, detail)


async def _substitution_of(uow: UnitOfWork, substitution_id: str) -> Substitution:
    found = await uow.substitutions.get(substitution_id)
    if found is None:
        raise NotFound(f"No substitution {substitution_id!r}")
    return found
