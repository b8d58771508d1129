"""The GraphQL documents the adapter sends, in one place so their cost can be reviewed.

Page sizes are chosen so each document stays well under Shopify's single-query ceiling of
1000 points, where nested connections multiply: an order's fulfillment orders are read five
at a time (paged with ``$after``), each with up to 50 lines and 5 fulfillments.
"""

from __future__ import annotations

FULFILLMENT_ORDER_FIELDS = """
fragment OmsFulfillmentOrder on FulfillmentOrder {
  id status
  assignedLocation { location { id } }
  supportedActions { action }
  lineItems(first: 50) { pageInfo { hasNextPage } nodes { id sku totalQuantity remainingQuantity } }
  fulfillments(first: 5) { nodes { trackingInfo { company number url } } }
}
"""

ORDER_FIELDS = (
    """
fragment OmsOrder on Order {
  id name sourceIdentifier cancelledAt
  fulfillmentOrders(first: 5, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OmsFulfillmentOrder }
  }
}
"""
    + FULFILLMENT_ORDER_FIELDS
)

ORDER = (
    """
query gatewayOrder($id: ID!, $after: String) { order(id: $id) { ...OmsOrder } }
"""
    + ORDER_FIELDS
)

ORDER_BY_REFERENCE = (
    """
query gatewayOrderByReference($query: String!, $after: String) {
  orders(first: 1, query: $query) { nodes { ...OmsOrder } }
}
"""
    + ORDER_FIELDS
)

ORDER_CREATE = (
    """
mutation gatewayOrderCreate(
  $order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput, $after: String
) {
  orderCreate(order: $order, options: $options) {
    order { ...OmsOrder }
    userErrors { field message code }
  }
}
"""
    + ORDER_FIELDS
)

VARIANTS_BY_SKU = """
query gatewayVariants($query: String!) {
  productVariants(first: 250, query: $query) { nodes { id sku } }
}
"""

FULFILLMENT_ORDER = (
    """
query gatewayFulfillmentOrder($id: ID!) { fulfillmentOrder(id: $id) { ...OmsFulfillmentOrder } }
"""
    + FULFILLMENT_ORDER_FIELDS
)

MOVE = """
mutation gatewayMove(
  $id: ID!, $newLocationId: ID!, $fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
) {
  fulfillmentOrderMove(
    id: $id, newLocationId: $newLocationId, fulfillmentOrderLineItems: $fulfillmentOrderLineItems
  ) {
    movedFulfillmentOrder { id }
    userErrors { field message }
  }
}
"""

FULFILLMENT_CREATE = """
mutation gatewayFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

# refundMethod replaced the deprecated ``refund: Boolean!`` in 2025-07; declared non-null
# here so the document validates whether the pinned version takes it nullable or not.
ORDER_CANCEL = """
mutation gatewayOrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!,
  $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
    notifyCustomer: $notifyCustomer, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

JOB = """
query gatewayJob($id: ID!) { job(id: $id) { id done } }
"""

RETURNABLE = """
query gatewayReturnable($orderId: ID!) {
  returnableFulfillments(orderId: $orderId, first: 10) {
    nodes {
      returnableFulfillmentLineItems(first: 25) {
        nodes { quantity fulfillmentLineItem { id lineItem { sku } } }
      }
    }
  }
}
"""

ORDER_RETURNS = """
query gatewayOrderReturns($id: ID!) {
  order(id: $id) {
    returns(first: 20) {
      nodes {
        id name status
        returnLineItems(first: 25) { nodes { ... on ReturnLineItem { customerNote } } }
      }
    }
  }
}
"""

REASON_DEFINITIONS = """
query gatewayReasons($handles: [String!]) {
  returnReasonDefinitions(first: 50, handles: $handles) { nodes { id handle } }
}
"""

RETURN = """
query gatewayReturn($id: ID!) { return(id: $id) { id name status } }
"""

RETURN_REQUEST = """
mutation gatewayReturnRequest($input: ReturnRequestInput!) {
  returnRequest(input: $input) { return { id name status } userErrors { field message code } }
}
"""

RETURN_APPROVE = """
mutation gatewayReturnApprove($input: ReturnApproveRequestInput!) {
  returnApproveRequest(input: $input) {
    return { id name status }
    userErrors { field message code }
  }
}
"""

RETURN_CLOSE = """
mutation gatewayReturnClose($id: ID!) {
  returnClose(id: $id) { return { id name status } userErrors { field message code } }
}
"""
