//! Seeded dropout: the drop rate, the inverted scale, and replay from the seed.

mod common;

use burn::tensor::Tensor;
use common::test_devices;
use reformer_core::dropout::seeded_dropout;
use reformer_core::random::{KeepScales, keep_scale};

#[test]
fn drops_at_the_requested_rate_and_scales_the_rest() {
    let n = 200_000;
    for (name, device) in test_devices() {
        for prob in [0.05, 0.25, 0.5] {
            let ones = Tensor::<2>::ones([n / 100, 100], &device);
            let out: Vec<f32> = seeded_dropout(ones, prob, Some(7))
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            let dropped = out.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64;
            // Four standard deviations of a binomial proportion.
            let spread = 4.0 * (prob * (1.0 - prob) / n as f64).sqrt();
            assert!(
                (dropped - prob).abs() <= spread,
                "{name}: dropped {dropped} of the elements at p = {prob}"
            );
            let scale = (1.0 / (1.0 - prob)) as f32;
            assert!(
                out.iter().all(|&x| x == 0.0 || x == scale),
                "{name}: kept elements are not scaled by 1/(1 - p) = {scale}"
            );
        }
    }
}

#[test]
fn the_seed_decides_the_mask_and_no_seed_means_no_dropout() {
    for (name, device) in test_devices() {
        let x = common::random(3, [4, 256], &device);
        let values = |seed| -> Vec<f32> {
            seeded_dropout(x.clone(), 0.3, seed)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        assert_eq!(values(Some(1)), values(Some(1)), "{name}: same seed");
        assert_ne!(values(Some(1)), values(Some(2)), "{name}: other seed");
        let input: Vec<f32> = x.clone().into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(values(None), input, "{name}: evaluation");
        let unchanged: Vec<f32> = seeded_dropout(x.clone(), 0.0, Some(1))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(unchanged, input, "{name}: p = 0");
    }
}

/// Kernels that walk a tensor in their own order draw element by element; they must drop
/// exactly what the whole-tensor draw drops, across the parallel draw's block boundaries.
#[test]
fn one_element_draws_equal_the_whole_tensor_draw() {
    let device = burn::tensor::Device::default();
    let count = 70_001;
    let whole: Vec<f32> = keep_scale(9, 0.2, [count], &device)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let draws = KeepScales::new(9, 0.2);
    for (index, &factor) in whole.iter().enumerate() {
        assert_eq!(draws.at(index as u64), factor, "element {index}");
    }
    for (first, len) in [(0, 5), (1, 4), (7, 1), (32_767, 3), (1000, 0)] {
        let mut part = vec![f32::NAN; len];
        draws.fill(first as u64, &mut part);
        assert_eq!(
            part,
            whole[first..first + len],
            "elements {first}..{}",
            first + len
        );
    }
}
