//! Least recently heard first, in constant time: a doubly linked list threaded through the
//! slots of a slab by index. The segment table keeps two over the same slots (every router;
//! the routers of each VRRP group), each in its own array of links.

/// A slot's place in one list.
#[derive(Clone, Copy, Debug, Default)]
pub struct Link {
    prev: Option<usize>,
    next: Option<usize>,
}

/// One list: `front` the most recently touched slot, `back` the least.
#[derive(Clone, Debug, Default)]
pub struct List {
    front: Option<usize>,
    back: Option<usize>,
    len: usize,
}

impl List {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn front(&self) -> Option<usize> {
        self.front
    }

    pub fn back(&self) -> Option<usize> {
        self.back
    }

    /// Puts slot `i`, which is in no list of `links`, at the front.
    pub fn push_front(&mut self, links: &mut [Link], i: usize) {
        links[i] = Link {
            prev: None,
            next: self.front,
        };
        match self.front {
            Some(f) => links[f].prev = Some(i),
            None => self.back = Some(i),
        }
        self.front = Some(i);
        self.len += 1;
    }

    /// Takes slot `i`, which is in this list, out of it.
    pub fn remove(&mut self, links: &mut [Link], i: usize) {
        let Link { prev, next } = links[i];
        match prev {
            Some(p) => links[p].next = next,
            None => self.front = next,
        }
        match next {
            Some(n) => links[n].prev = prev,
            None => self.back = prev,
        }
        links[i] = Link::default();
        self.len -= 1;
    }

    /// Moves slot `i`, which is in this list, to the front.
    pub fn touch(&mut self, links: &mut [Link], i: usize) {
        if self.front != Some(i) {
            self.remove(links, i);
            self.push_front(links, i);
        }
    }

    /// The slots from the most recently touched to the least.
    pub fn iter<'a>(&self, links: &'a [Link]) -> impl Iterator<Item = usize> + 'a {
        std::iter::successors(self.front, move |&i| links[i].next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touched_slots_move_to_the_front_and_the_back_is_the_least_recent() {
        let mut links = vec![Link::default(); 4];
        let mut l = List::default();
        for i in 0..4 {
            l.push_front(&mut links, i);
        }
        assert_eq!(l.iter(&links).collect::<Vec<_>>(), [3, 2, 1, 0]);
        l.touch(&mut links, 0);
        l.touch(&mut links, 2);
        assert_eq!(l.iter(&links).collect::<Vec<_>>(), [2, 0, 3, 1]);
        assert_eq!(l.back(), Some(1));
        l.remove(&mut links, 1);
        l.remove(&mut links, 2);
        assert_eq!(l.iter(&links).collect::<Vec<_>>(), [0, 3]);
        assert_eq!((l.front(), l.back(), l.len()), (Some(0), Some(3), 2));
        l.remove(&mut links, 0);
        l.remove(&mut links, 3);
        assert!(l.is_empty() && l.front().is_none() && l.back().is_none());
        l.push_front(&mut links, 1);
        assert_eq!((l.front(), l.back()), (Some(1), Some(1)));
    }
}
