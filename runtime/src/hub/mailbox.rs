//! A connection's inbox for what others send it: events and close orders.
//!
//! Senders never wait on it. It is bounded: when a connection falls behind
//! (its client stopped reading, or `receive` runs long), the consumer's
//! [`Overflow`] policy decides, so a slow member costs the memory it is
//! allowed and never slows the sender or the other members.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::Event;
use crate::close::CloseCode;

/// What a connection does when its inbox is full.
///
/// ```
/// use sockwarden::{Limits, Overflow};
///
/// assert_eq!(Limits::DEFAULT.overflow, Overflow::Close);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Close the connection with 1013 (try again later): the client learns
    /// that it missed events and can reconnect and resynchronise. The
    /// default, because dropping silently loses data.
    Close,
    /// Drop the oldest queued event to make room, and count it
    /// ([`Cx::dropped`](crate::Cx::dropped)); for streams where only the
    /// latest state matters (prices, positions, presence).
    DropOldest,
}

/// What the connection takes out of its inbox.
#[derive(Debug)]
pub(crate) enum Delivery {
    Event(Event),
    Close(CloseCode, Cow<'static, str>),
}

#[derive(Debug)]
pub(crate) struct Mailbox {
    queue: Mutex<Queue>,
    /// Set once a close order is queued, never cleared: the read loop and
    /// every send look at it, and a load is cheaper than the lock.
    closing: AtomicBool,
    /// Set when something arrives for the connection, cleared when it
    /// looks: the connection's check on every turn is one load.
    pending: AtomicBool,
    /// The connection task's waker, registered once, woken by reference.
    waker: Mutex<Option<Waker>>,
    /// Woken when a close order arrives, for a write that must stop waiting.
    stop: Notify,
    capacity: usize,
    overflow: Overflow,
}

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Event>,
    close: Option<(CloseCode, Cow<'static, str>)>,
    dropped: u64,
}

impl Mailbox {
    pub(crate) fn new(capacity: usize, overflow: Overflow) -> Mailbox {
        Mailbox {
            queue: Mutex::default(),
            closing: AtomicBool::new(false),
            pending: AtomicBool::new(false),
            waker: Mutex::new(None),
            stop: Notify::new(),
            capacity: capacity.max(1),
            overflow,
        }
    }

    /// Queues an event; never waits.
    pub(crate) fn push(&self, event: Event) {
        {
            let mut queue = self.lock();
            if queue.close.is_some() {
                return;
            }
            if queue.events.len() >= self.capacity {
                match self.overflow {
                    Overflow::DropOldest => {
                        queue.events.pop_front();
                        queue.dropped += 1;
                    }
                    Overflow::Close => {
                        queue.events.clear();
                        queue.close = Some((
                            CloseCode::TRY_AGAIN_LATER,
                            "too slow: events were arriving faster than the client read them"
                                .into(),
                        ));
                        self.closing.store(true, Ordering::Release);
                        drop(queue);
                        self.wake();
                        self.stop.notify_waiters();
                        return;
                    }
                }
            }
            queue.events.push_back(event);
        }
        self.wake();
    }

    /// Orders the connection closed; the first order wins, and queued
    /// events are not delivered after it.
    pub(crate) fn close(&self, code: CloseCode, reason: Cow<'static, str>) {
        {
            let mut queue = self.lock();
            if queue.close.is_some() {
                return;
            }
            queue.events.clear();
            queue.close = Some((code, reason));
            self.closing.store(true, Ordering::Release);
        }
        self.wake();
        self.stop.notify_waiters();
    }

    /// The next delivery: a close order before any event.
    pub(crate) fn pop(&self) -> Option<Delivery> {
        let mut queue = self.lock();
        if let Some((code, reason)) = queue.close.take() {
            // Keep it closed: later pushes are refused.
            queue.close = Some((code, reason.clone()));
            return Some(Delivery::Close(code, reason));
        }
        queue.events.pop_front().map(Delivery::Event)
    }

    /// Whether a close order is pending.
    pub(crate) fn closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// The close order, if one is pending.
    pub(crate) fn close_order(&self) -> Option<(CloseCode, Cow<'static, str>)> {
        if !self.closing() {
            return None;
        }
        self.lock().close.clone()
    }

    /// Ready when something may have arrived since it was last ready.
    /// `registered` is the connection's note of the waker it left here: the
    /// same task registers once, and a turn with nothing new costs a load.
    pub(crate) fn poll_wakeup(
        &self,
        registered: &mut Option<Waker>,
        task: &mut Context<'_>,
    ) -> Poll<()> {
        if !registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(task.waker()))
        {
            let waker = task.waker().clone();
            *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker.clone());
            *registered = Some(waker);
        }
        // Checked after registering: a wake that came before it is kept.
        if self.pending.load(Ordering::Acquire) && self.pending.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Wakes the connection again, for deliveries left for its next turn.
    pub(crate) fn rewake(&self) {
        self.wake();
    }

    /// Tells the connection to look; a connection that has not looked
    /// since the last call is already on its way.
    fn wake(&self) {
        if !self.pending.swap(true, Ordering::AcqRel)
            && let Some(waker) = &*self.waker.lock().unwrap_or_else(PoisonError::into_inner)
        {
            waker.wake_by_ref();
        }
    }

    /// Resolves once a close order is pending.
    pub(crate) async fn stopped(&self) {
        loop {
            let stop = self.stop.notified();
            tokio::pin!(stop);
            stop.as_mut().enable();
            if self.closing() {
                return;
            }
            stop.await;
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave the queue invalid
        // (every operation is a single push, pop or assignment).
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> Event {
        Event::json(&n).unwrap()
    }

    fn popped(mailbox: &Mailbox) -> Vec<String> {
        std::iter::from_fn(|| match mailbox.pop() {
            Some(Delivery::Event(event)) => Some(event.as_str().to_owned()),
            Some(Delivery::Close(code, reason)) => Some(format!("close {} {reason}", code.get())),
            None => None,
        })
        .take(10)
        .collect()
    }

    #[test]
    fn drop_oldest_keeps_the_newest_and_counts() {
        let mailbox = Mailbox::new(2, Overflow::DropOldest);
        (1..=5).for_each(|n| mailbox.push(event(n)));
        assert_eq!(mailbox.dropped(), 3);
        assert_eq!(popped(&mailbox), ["4", "5"]);
    }

    #[test]
    fn close_policy_closes_with_1013_and_drops_the_queue() {
        let mailbox = Mailbox::new(2, Overflow::Close);
        (1..=3).for_each(|n| mailbox.push(event(n)));
        let out = popped(&mailbox);
        assert!(out[0].starts_with("close 1013 too slow"), "{out:?}");
        assert!(mailbox.closing());
    }

    #[test]
    fn a_close_order_comes_first_and_stays() {
        let mailbox = Mailbox::new(8, Overflow::Close);
        mailbox.push(event(1));
        mailbox.close(CloseCode::NOT_AUTHENTICATED, "logged out".into());
        mailbox.close(CloseCode::GOING_AWAY, "later order".into());
        mailbox.push(event(2));
        assert!(matches!(mailbox.pop(), Some(Delivery::Close(code, _)) if code.get() == 4401));
        assert!(mailbox.closing());
    }

    #[tokio::test]
    async fn a_push_before_waiting_is_not_lost() {
        let mailbox = Mailbox::new(8, Overflow::Close);
        mailbox.push(event(1));
        let mut registered = None;
        let woken = std::future::poll_fn(|task| mailbox.poll_wakeup(&mut registered, task));
        tokio::time::timeout(std::time::Duration::from_secs(1), woken)
            .await
            .expect("the wake-up was kept");
    }

    #[tokio::test]
    async fn a_push_while_waiting_wakes_and_a_taken_wakeup_is_not_seen_twice() {
        let mailbox = std::sync::Arc::new(Mailbox::new(8, Overflow::Close));
        let mut registered = None;
        // Nothing yet: pending, and the waker is left with the mailbox.
        let waiting = std::future::poll_fn(|task| mailbox.poll_wakeup(&mut registered, task));
        let pusher = {
            let mailbox = std::sync::Arc::clone(&mailbox);
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                mailbox.push(event(1));
            })
        };
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting)
            .await
            .expect("the push woke the waiting connection");
        pusher.await.unwrap();
        // Taken: the next look finds nothing new.
        let again = std::future::poll_fn(|task| mailbox.poll_wakeup(&mut registered, task));
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), again)
                .await
                .is_err()
        );
    }
}
