//! Registry numbers with valid check digits.
//!
//! Each country writes its company registry number in its own notation with
//! its own check digit (Luhn, MOD11 with various weights, the kennitala's
//! century digit), so a number that looks right also validates, as users'
//! own checks expect.

use rand::Rng;

use super::R;
use super::country::Country;

/// A plausible registry number in the country's usual notation, with a
/// valid check digit.
pub(super) fn org_number(country: Country, rng: &mut R) -> String {
    let mut d = [0u32; 10];
    match country {
        // Organisationsnummer of an aktiebolag: 556/559 + 6 digits + Luhn.
        Country::Se => {
            d[0] = 5;
            d[1] = 5;
            d[2] = if rng.gen_bool(0.6) { 6 } else { 9 };
            for x in d.iter_mut().take(9).skip(3) {
                *x = rng.gen_range(0..10);
            }
            let sum: u32 = (0..9)
                .map(|i| {
                    let v = d[i] * if i % 2 == 0 { 2 } else { 1 };
                    v / 10 + v % 10
                })
                .sum();
            d[9] = (10 - sum % 10) % 10;
            format!("{}-{}", digits(&d[..6]), digits(&d[6..]))
        }
        // Organisasjonsnummer: 9 digits, MOD11 with weights 3,2,7,6,5,4,3,2.
        Country::No => loop {
            d[0] = if rng.gen_bool(0.7) { 9 } else { 8 };
            for x in d.iter_mut().take(8).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [3, 2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..8).map(|i| d[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                d[8] = check;
                return digits(&d[..9]);
            }
        },
        // CVR: 8 digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11.
        Country::Dk => loop {
            d[0] = rng.gen_range(1..5);
            for x in d.iter_mut().take(7).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..7).map(|i| d[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                d[7] = check;
                return digits(&d[..8]);
            }
        },
        // Y-tunnus: 7 digits, a hyphen and a MOD11 check digit.
        Country::Fi => loop {
            d[0] = rng.gen_range(0..4);
            for x in d.iter_mut().take(7).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [7, 9, 10, 5, 8, 4, 2];
            let sum: u32 = (0..7).map(|i| d[i] * w[i]).sum();
            let check = match sum % 11 {
                0 => 0,
                1 => continue,
                r => 11 - r,
            };
            return format!("{}-{check}", digits(&d[..7]));
        },
        // Kennitala of a company: day + 40, month, year, two digits, check
        // digit, century digit.
        Country::Is => loop {
            let day = rng.gen_range(1..29) + 40;
            let month = rng.gen_range(1..13);
            let year: u32 = rng.gen_range(1965..2025);
            let body = [
                day / 10,
                day % 10,
                month / 10,
                month % 10,
                (year % 100) / 10,
                year % 10,
                rng.gen_range(2..10),
                rng.gen_range(0..10),
            ];
            let w = [3, 2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..8).map(|i| body[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                let century = if year >= 2000 { 0 } else { 9 };
                return format!(
                    "{}-{}{}{check}{century}",
                    digits(&body[..6]),
                    body[6],
                    body[7]
                );
            }
        },
    }
}

fn digits(d: &[u32]) -> String {
    d.iter()
        .map(|&x| char::from_digit(x, 10).unwrap_or('0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn org_numbers_have_valid_check_digits() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..200 {
            let se: Vec<u32> = org_number(Country::Se, &mut rng)
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            let luhn: u32 = se
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    let v = if i % 2 == 0 { d * 2 } else { d };
                    v / 10 + v % 10
                })
                .sum();
            assert_eq!(luhn % 10, 0);
            let no: Vec<u32> = org_number(Country::No, &mut rng)
                .chars()
                .map(|c| c.to_digit(10).unwrap())
                .collect();
            let w = [3, 2, 7, 6, 5, 4, 3, 2, 1];
            assert_eq!(no.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11, 0);
            let dk: Vec<u32> = org_number(Country::Dk, &mut rng)
                .chars()
                .map(|c| c.to_digit(10).unwrap())
                .collect();
            let w = [2, 7, 6, 5, 4, 3, 2, 1];
            assert_eq!(dk.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11, 0);
            let fi = org_number(Country::Fi, &mut rng);
            assert_eq!(fi.len(), 9);
            assert_eq!(&fi[7..8], "-");
            let is = org_number(Country::Is, &mut rng);
            assert_eq!(is.len(), 11);
        }
    }
}
