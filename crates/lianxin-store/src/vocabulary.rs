//! The city's own search vocabulary: dictionary words and synonym groups added by admins.

use crate::{Store, StoreError};
use lianxin_domain::Millis;
use sqlx::Row;

/// Dictionary words and synonym groups (`(group id, words)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub words: Vec<String>,
    pub synonyms: Vec<(String, Vec<String>)>,
}

impl Store {
    pub async fn vocabulary(&self) -> Result<Vocabulary, StoreError> {
        let words = sqlx::query("SELECT word FROM search_words ORDER BY word").fetch_all(&self.pool).await?;
        let words = words.iter().map(|r| r.try_get("word")).collect::<Result<Vec<String>, _>>()?;
        let rows = sqlx::query("SELECT grp, word FROM search_synonyms ORDER BY grp, created_at, word")
            .fetch_all(&self.pool)
            .await?;
        let mut synonyms: Vec<(String, Vec<String>)> = Vec::new();
        for r in &rows {
            let (g, w): (String, String) = (r.try_get("grp")?, r.try_get("word")?);
            match synonyms.last_mut() {
                Some((last, ws)) if *last == g => ws.push(w),
                _ => synonyms.push((g, vec![w])),
            }
        }
        Ok(Vocabulary { words, synonyms })
    }

    /// Adds dictionary words (a word already there is left as it is); returns how many
    /// were new.
    pub async fn add_search_words(&self, words: &[String], by: &str, at: Millis) -> Result<usize, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for w in words {
            let r = sqlx::query(
                "INSERT INTO search_words (word, created_by, created_at) VALUES ($1, $2, $3) ON CONFLICT (word) DO NOTHING",
            )
            .bind(w)
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            added += r.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Removes a dictionary word; false when it was not there.
    pub async fn remove_search_word(&self, word: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = sqlx::query("DELETE FROM search_words WHERE word = $1").bind(word).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }

    /// Makes `words` one synonym group `grp`. A word already in another group brings that
    /// group along (the groups merge under `grp`).
    pub async fn add_synonyms(&self, grp: &str, words: &[String], by: &str, at: Millis) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for w in words {
            let old: Option<String> = sqlx::query_scalar("SELECT grp FROM search_synonyms WHERE word = $1")
                .bind(w)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(old) = old {
                sqlx::query("UPDATE search_synonyms SET grp = $1 WHERE grp = $2")
                    .bind(grp)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query("INSERT INTO search_synonyms (word, grp, created_by, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(w)
                    .bind(grp)
                    .bind(by)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a synonym group; false when there was none.
    pub async fn remove_synonyms(&self, grp: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = sqlx::query("DELETE FROM search_synonyms WHERE grp = $1").bind(grp).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }
}
