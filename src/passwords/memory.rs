//! argon2's working memory, kept per hashing thread and reused. Allocating and freeing tens
//! of MiB per hash leaves each thread's allocator holding freed blocks, so resident memory
//! grew with every distinct hash; a reused buffer keeps it at threads × memory cost.

use std::cell::RefCell;

use argon2::{Argon2, Block};

/// Buffers above this many 1 KiB blocks are allocated per hash rather than kept, so a rare
/// expensive legacy hash does not pin its memory to a thread for good.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon.hash_password_into`, with this thread's reusable working memory.
pub(crate) fn hash_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let needed = argon.params().block_count();
    if needed > MAX_KEPT_BLOCKS {
        return argon.hash_password_into(password, salt, out);
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
    })
}

/// Gives this thread working memory for `blocks` 1 KiB blocks, written once so the pages are
/// faulted in: tens of MiB take milliseconds of page faults, better spent while a request
/// waits for Firestore than inside its hash.
pub(crate) fn reserve(blocks: usize) {
    if blocks > MAX_KEPT_BLOCKS {
        return;
    }
    BLOCKS.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() < blocks {
            // `resize` writes every element, which is what faults the pages in.
            kept.resize(blocks, Block::default());
        }
    });
}
