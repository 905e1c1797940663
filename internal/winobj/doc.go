// Package winobj gives Go the Windows kernel objects that Winsock's I/O
// models stand on, with their Windows semantics, for package api (the
// ws2_32 analog) to build WSACreateEvent, WSASetEvent, WSAResetEvent,
// WSAWaitForMultipleEvents, SleepEx, completion routines, completion ports
// and WSAAsyncSelect on:
//
//   - [Event]: manual-reset and auto-reset event objects.
//   - [Wait]: WaitForMultipleObjectsEx over up to 64 events, wait-any or
//     atomic wait-all, with a timeout, optionally alertable.
//   - [APCQueue] and [SleepEx]: user APCs and the alertable waits that run
//     them.
//   - [Port], [Worker], [Packet]: I/O completion ports with their
//     concurrency value and LIFO release of waiting workers.
//   - [MessageQueue], [Msg]: a window's posted-message queue.
//
// Results are Windows' own values: WSA_WAIT_EVENT_0+i, WSA_WAIT_TIMEOUT,
// WSA_WAIT_IO_COMPLETION and WSA_WAIT_FAILED from [Wait]; [wsa.Errno]
// errors (WSA_INVALID_PARAMETER, WSA_INVALID_HANDLE, WAIT_TIMEOUT,
// ERROR_ABANDONED_WAIT_0, [ErrIOCompletion]) elsewhere. The objects are Go
// values, not handles: the api's handle table maps HANDLEs to them.
//
// It imports package wsa and the standard library only.
//
// # Thread identity
//
// Windows ties two things to threads that Go cannot name: the APC queue and
// the running count of a completion port. The model here:
//
//   - An [APCQueue] is a thread. A completion routine is queued to a queue
//     (the api gives each Session one by default), and runs in whichever
//     goroutine makes an alertable wait with that queue: [Wait], [SleepEx],
//     [Port.Get]/[Port.GetMany] or [Worker.Get]/[Worker.GetMany] with a
//     non-nil apc, or [APCQueue.RunPending]. A queue runs its APCs one at a
//     time, oldest first, like a thread; an APC queued while they run runs
//     in the same turn. A wait with a nil apc is not alertable and never
//     runs APCs.
//   - A [Worker] is a thread serving a [Port]: one per worker goroutine.
//     Only workers count against the port's concurrency value; plain
//     [Port.Get] is an anonymous caller that is neither counted nor held
//     back. A worker counts as running from each packet it removes until
//     its next Get or [Worker.Release]; since Go cannot see a worker block
//     elsewhere (which would make Windows release another thread), a worker
//     should call Release before blocking on anything else.
//
// # Guarantees
//
// No busy waiting: every blocked call parks its goroutine on a channel (with
// a runtime timer for a finite timeout), so an idle object, and a goroutine
// blocked on one, cost no CPU. Wake-ups are handed over, not broadcast where
// it matters: a Set of an auto-reset event wakes exactly the one wait it
// satisfies, a Post wakes exactly the caller it hands the packet to. No
// wake-up is lost: a wait that times out or is interrupted by APCs at the
// moment an object satisfies it returns the object, so a consumed auto-reset
// signal or a handed-over packet always reaches a caller.
//
// Multi-object waits take the objects' mutexes in a global order (by object
// id); an event's Set looks at waits on other objects with TryLock only, and
// finishes the ones it could not lock after it drops its own mutex. The
// objects do not call out while holding a lock: APCs run with no lock held,
// so an APC may use any object.
//
// [Event.Assist] hands a function to a goroutine blocked in a wait on an
// event, which runs it (with no lock of the objects held) before it looks
// at its objects again: whoever will signal the event does its work in the
// goroutine waiting for the signal, without a wake-up of another goroutine
// in between. A function handed over always runs, before the wait returns.
//
// Closing an object ends the waits on it (Windows leaves that undefined);
// see each Close.
package winobj
