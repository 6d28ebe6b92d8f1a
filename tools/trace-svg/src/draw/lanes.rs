//! Placing labels so they do not overprint: each label goes on the first
//! line (lane) under its row where it fits after the label before it.
//! Events a microsecond apart (`fd 7 IN OUT`, `fd 8 OUT`) then stack
//! instead of colliding; past a few lanes a label is left out of the
//! picture (its item keeps its hover title).

/// Space between two labels on one lane (px).
const GAP_PX: f64 = 6.0;

/// A label to place: where it wants to start and how wide it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Want {
    /// Its left edge, px.
    pub x: f64,
    /// Its width, px.
    pub width: f64,
}

/// The lane of each label (`None`: no room in `max_lanes`), and how many
/// lanes were used. Labels are placed in the order given; give them left
/// to right.
pub fn assign(wants: &[Want], max_lanes: usize) -> (Vec<Option<usize>>, usize) {
    // Where each lane's last label ends.
    let mut ends: Vec<f64> = Vec::new();
    let lanes = wants
        .iter()
        .map(|want| {
            let free = ends.iter().position(|&end| end + GAP_PX <= want.x);
            let lane = match free {
                Some(lane) => lane,
                None if ends.len() < max_lanes => {
                    ends.push(f64::NEG_INFINITY);
                    ends.len() - 1
                }
                None => return None,
            };
            ends[lane] = want.x + want.width;
            Some(lane)
        })
        .collect();
    (lanes, ends.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(x: f64, width: f64) -> Want {
        Want { x, width }
    }

    #[test]
    fn stacks_labels_that_would_collide() {
        let wants = [
            want(0.0, 50.0),
            want(2.0, 50.0),
            want(60.0, 10.0),
            want(61.0, 10.0),
        ];
        let (lanes, used) = assign(&wants, 3);
        assert_eq!(lanes, [Some(0), Some(1), Some(0), Some(1)]);
        assert_eq!(used, 2);
    }

    #[test]
    fn leaves_out_what_does_not_fit() {
        let wants = [want(0.0, 50.0), want(1.0, 50.0), want(2.0, 50.0)];
        assert_eq!(assign(&wants, 2), (vec![Some(0), Some(1), None], 2));
        assert_eq!(assign(&[], 2), (vec![], 0));
    }
}
