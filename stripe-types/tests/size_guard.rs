//! Guards against resources growing huge when expanded objects are kept inline (measured once at
//! 1.4 MB for `Customer`, overflowing the stack): every resource stays under 16 KiB.

use std::mem::size_of;

use stripe_types::*;

const LIMIT: usize = 16 * 1024;

macro_rules! sizes {
    ($($ty:ty),* $(,)?) => {
        [$((stringify!($ty), size_of::<$ty>())),*]
    };
}

#[test]
fn resources_are_under_16_kib() {
    let sizes = sizes![
        CheckoutSession,
        Coupon,
        Customer,
        CustomerOrDeletedCustomer,
        DeletedCustomer,
        Discount,
        Event,
        EventObject,
        Invoice,
        LineItem,
        PaymentIntent,
        PaymentMethod,
        Price,
        Product,
        SetupIntent,
        Subscription,
        SubscriptionItem,
        params::CreateCheckoutSessionParams,
        params::CreateCustomerParams,
        params::UpdateCustomerParams,
    ];
    for (name, size) in sizes {
        println!("size_of::<{name}>() = {size}");
        assert!(
            size < LIMIT,
            "size_of::<{name}>() is {size} bytes, over {LIMIT}"
        );
    }
}
