//! UserService: adapters over the domain's user operations.

use tonic::{Request, Response, Status};

use super::{
    convert::tags,
    proto::{self, user_service_server::UserService},
};
use crate::domain::{
    CreateUser, ListUserTags, ListUsers, Service, TagUser, UntagUser, UpdateUser, parse_user_name,
};

/// Serves UserService.
#[derive(Debug, Clone)]
pub struct UserApi(pub Service);

#[tonic::async_trait]
impl UserService for UserApi {
    async fn create_user(
        &self,
        request: Request<proto::CreateUserRequest>,
    ) -> Result<Response<proto::CreateUserResponse>, Status> {
        let r = request.into_inner();
        let user = self
            .0
            .create_user(CreateUser::parse(&r.user_name, &r.path, tags(r.tags))?)
            .await?;
        Ok(Response::new(proto::CreateUserResponse {
            user: Some(user.into()),
        }))
    }

    async fn get_user(
        &self,
        request: Request<proto::GetUserRequest>,
    ) -> Result<Response<proto::GetUserResponse>, Status> {
        let user = self
            .0
            .get_user(parse_user_name(&request.into_inner().user_name)?)
            .await?;
        Ok(Response::new(proto::GetUserResponse {
            user: Some(user.into()),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<proto::DeleteUserRequest>,
    ) -> Result<Response<proto::DeleteUserResponse>, Status> {
        self.0
            .delete_user(parse_user_name(&request.into_inner().user_name)?)
            .await?;
        Ok(Response::new(proto::DeleteUserResponse {}))
    }

    async fn list_users(
        &self,
        request: Request<proto::ListUsersRequest>,
    ) -> Result<Response<proto::ListUsersResponse>, Status> {
        let r = request.into_inner();
        let page = self
            .0
            .list_users(ListUsers::parse(&r.path_prefix, &r.marker, r.max_items)?)
            .await?;
        Ok(Response::new(proto::ListUsersResponse {
            is_truncated: page.marker.is_some(),
            marker: page.marker.unwrap_or_default(),
            users: page.users.into_iter().map(Into::into).collect(),
        }))
    }

    async fn update_user(
        &self,
        request: Request<proto::UpdateUserRequest>,
    ) -> Result<Response<proto::UpdateUserResponse>, Status> {
        let r = request.into_inner();
        let update = UpdateUser::parse(
            &r.user_name,
            r.new_user_name.as_deref(),
            r.new_path.as_deref(),
        )?;
        self.0.update_user(update).await?;
        Ok(Response::new(proto::UpdateUserResponse {}))
    }

    async fn tag_user(
        &self,
        request: Request<proto::TagUserRequest>,
    ) -> Result<Response<proto::TagUserResponse>, Status> {
        let r = request.into_inner();
        self.0
            .tag_user(TagUser::parse(&r.user_name, tags(r.tags))?)
            .await?;
        Ok(Response::new(proto::TagUserResponse {}))
    }

    async fn untag_user(
        &self,
        request: Request<proto::UntagUserRequest>,
    ) -> Result<Response<proto::UntagUserResponse>, Status> {
        let r = request.into_inner();
        self.0
            .untag_user(UntagUser::parse(&r.user_name, r.tag_keys)?)
            .await?;
        Ok(Response::new(proto::UntagUserResponse {}))
    }

    async fn list_user_tags(
        &self,
        request: Request<proto::ListUserTagsRequest>,
    ) -> Result<Response<proto::ListUserTagsResponse>, Status> {
        let r = request.into_inner();
        let page = self
            .0
            .list_user_tags(ListUserTags::parse(&r.user_name, &r.marker, r.max_items)?)
            .await?;
        Ok(Response::new(proto::ListUserTagsResponse {
            is_truncated: page.marker.is_some(),
            marker: page.marker.unwrap_or_default(),
            tags: page.tags.into_iter().map(Into::into).collect(),
        }))
    }
}
