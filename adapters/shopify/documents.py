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

# Order editing. The order's lines and its "edited" timeline entries, whose staff notes name
# the gateway's reference, are read in one request; entries beyond the first 50 are paged.
ORDER_EDIT_STATE = """
query gatewayOrderEditState($id: ID!, $after: String) {
  order(id: $id) {
    id cancelledAt
    lineItems(first: 100) {
      pageInfo { hasNextPage }
      nodes { id sku currentQuantity variant { id sku } }
    }
    events(first: 50, after: $after, query: "action:edited") {
      pageInfo { hasNextPage endCursor }
      nodes { message ... on BasicEvent { secondaryMessage additionalContent } }
    }
  }
}
"""

ORDER_EDIT_BEGIN = """
mutation gatewayOrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      lineItems(first: 100) {
        pageInfo { hasNextPage }
        nodes { id quantity sku variant { id sku } }
      }
    }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_SET_QUANTITY = """
mutation gatewayOrderEditSetQuantity(
  $id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean
) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_ADD_VARIANT = """
mutation gatewayOrderEditAddVariant(
  $id: ID!, $variantId: ID!, $quantity: Int!, $allowDuplicates: Boolean
) {
  orderEditAddVariant(
    id: $id, variantId: $variantId, quantity: $quantity, allowDuplicates: $allowDuplicates
  ) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_COMMIT = """
mutation gatewayOrderEditCommit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order { id }
    userErrors { field message }
  }
}
"""
