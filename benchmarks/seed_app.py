"""The seed's monolith as one Lambda function: the cold-start baseline of ``benchmarks.cold_start``.

The FastAPI + Motor backend the project replaces, condensed into one file section by section as the
seed lays it out (``app/core/config.py``, ``app/core/security.py``, ``app/db/mongodb.py``,
``app/models/``, ``app/utils/dependencies.py``, ``app/api/v1/endpoints/``, ``app/main.py``), with
all eleven v1 routes, and deployed the usual way: a Mangum handler around the app. The Motor client
is created once per container on first use (Mangum's per-invocation lifespan is off), so the
baseline pays what a careful monolith pays, not more. Dev-only: never shipped, never imported by
the project; its dependencies live in ``benchmarks/seed_requirements.txt``, installed apart.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import bcrypt
import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from mangum import Mangum
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError, PyMongoError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logger = logging.getLogger("app")


# app/core/config.py
class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    project_name: str = "Emergent Backend"
    version: str = "1.0.0"
    mongodb_uri: str = "mongodb://localhost:27017"
    mongodb_db_name: str = "emergent_db"
    mongodb_timeout_ms: int = 2000
    jwt_secret: str = Field(min_length=1)
    jwt_algorithm: str = "HS256"
    jwt_expire_minutes: int = 60
    bcrypt_rounds: int = 12
    cors_allow_origins: list[str] = ["*"]


settings = Settings()


# app/core/security.py
def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(settings.bcrypt_rounds)).decode()


def verify_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


def create_access_token(data: dict[str, Any]) -> str:
    expire = datetime.now(UTC) + timedelta(minutes=settings.jwt_expire_minutes)
    return jwt.encode({**data, "exp": expire}, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def decode_token(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, settings.jwt_secret, algorithms=[settings.jwt_algorithm])
    except jwt.InvalidTokenError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials") from None


# app/db/mongodb.py
class MongoDB:
    client: AsyncIOMotorClient | None = None

    @classmethod
    def database(cls) -> AsyncIOMotorDatabase:
        if cls.client is None:
            cls.client = AsyncIOMotorClient(
                settings.mongodb_uri,
                serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
                connectTimeoutMS=settings.mongodb_timeout_ms,
            )
        return cls.client[settings.mongodb_db_name]


async def get_database() -> AsyncIOMotorDatabase:
    return MongoDB.database()


Database = Annotated[AsyncIOMotorDatabase, Depends(get_database)]


# app/models/
def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


class UserCreate(BaseModel):
    email: EmailStr
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=8, max_length=72)


class UserLogin(BaseModel):
    email: EmailStr
    password: str


class UserResponse(BaseModel):
    id: str
    email: EmailStr
    username: str
    created_at: datetime
    is_active: bool = True


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the token scheme, not a secret)
    expires_in: int


class PromptCreate(BaseModel):
    content: str = Field(min_length=1, max_length=10_000)
    response: str | None = None


class PromptUpdate(BaseModel):
    content: str | None = Field(default=None, min_length=1, max_length=10_000)
    response: str | None = None


class PromptResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    content: str
    response: str | None = None
    created_at: datetime
    updated_at: datetime


class StatusCheckCreate(BaseModel):
    client_name: str = Field(min_length=1, max_length=200)


class StatusCheck(BaseModel):
    id: str = Field(default_factory=new_id)
    client_name: str
    timestamp: datetime = Field(default_factory=now)


class HealthResponse(BaseModel):
    status: str
    database: str
    version: str


# app/utils/dependencies.py
bearer = HTTPBearer()


async def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)], db: Database
) -> dict[str, Any]:
    payload = decode_token(credentials.credentials)
    user = await db.users.find_one({"id": payload.get("sub")}, {"_id": 0})
    if user is None or not user.get("is_active", True):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials")
    return user


CurrentUser = Annotated[dict[str, Any], Depends(get_current_user)]


# app/api/v1/endpoints/auth.py
auth = APIRouter(tags=["auth"])


@auth.post("/register", response_model=UserResponse, status_code=status.HTTP_201_CREATED)
async def register(user_in: UserCreate, db: Database) -> dict[str, Any]:
    email = user_in.email.lower()
    if await db.users.find_one({"email": email}):
        raise HTTPException(status.HTTP_409_CONFLICT, "Email already registered")
    user = {"id": new_id(), "email": email, "username": user_in.username, "created_at": now(), "is_active": True}
    try:
        await db.users.insert_one({**user, "hashed_password": hash_password(user_in.password)})
    except DuplicateKeyError:
        raise HTTPException(status.HTTP_409_CONFLICT, "Email already registered") from None
    return user


@auth.post("/login", response_model=Token)
async def login(credentials: UserLogin, db: Database) -> Token:
    user = await db.users.find_one({"email": credentials.email.lower()})
    if user is None or not verify_password(credentials.password, user["hashed_password"]):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect email or password")
    if not user.get("is_active", True):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Inactive user")
    token = create_access_token({"sub": user["id"]})
    return Token(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


@auth.get("/me", response_model=UserResponse)
async def me(current_user: CurrentUser) -> dict[str, Any]:
    return current_user


# app/api/v1/endpoints/prompts.py
prompts = APIRouter(prefix="/prompts", tags=["prompts"])


async def own_prompt(prompt_id: str, current_user: dict[str, Any], db: AsyncIOMotorDatabase) -> dict[str, Any]:
    prompt = await db.prompts.find_one({"id": prompt_id, "user_id": current_user["id"]}, {"_id": 0})
    if prompt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Prompt not found")
    return prompt


@prompts.post("", response_model=PromptResponse, status_code=status.HTTP_201_CREATED)
async def create_prompt(prompt_in: PromptCreate, current_user: CurrentUser, db: Database) -> dict[str, Any]:
    created = now()
    prompt = {"id": new_id(), "user_id": current_user["id"], **prompt_in.model_dump()}
    prompt.update(created_at=created, updated_at=created)
    await db.prompts.insert_one(dict(prompt))
    return prompt


@prompts.get("", response_model=list[PromptResponse])
async def list_prompts(
    current_user: CurrentUser, db: Database, skip: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=100)
) -> list[dict[str, Any]]:
    cursor = db.prompts.find({"user_id": current_user["id"]}, {"_id": 0}).sort("created_at", DESCENDING)
    return await cursor.skip(skip).limit(limit).to_list(length=limit)


@prompts.get("/{prompt_id}", response_model=PromptResponse)
async def get_prompt(prompt_id: str, current_user: CurrentUser, db: Database) -> dict[str, Any]:
    return await own_prompt(prompt_id, current_user, db)


@prompts.patch("/{prompt_id}", response_model=PromptResponse)
async def update_prompt(
    prompt_id: str, prompt_in: PromptUpdate, current_user: CurrentUser, db: Database
) -> dict[str, Any]:
    prompt = await own_prompt(prompt_id, current_user, db)
    changes = {**prompt_in.model_dump(exclude_unset=True), "updated_at": now()}
    await db.prompts.update_one({"id": prompt_id}, {"$set": changes})
    return {**prompt, **changes}


@prompts.delete("/{prompt_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_prompt(prompt_id: str, current_user: CurrentUser, db: Database) -> Response:
    await own_prompt(prompt_id, current_user, db)
    await db.prompts.delete_one({"id": prompt_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# app/api/v1/endpoints/status.py
status_checks = APIRouter(prefix="/status", tags=["status"])


@status_checks.post("", response_model=StatusCheck, status_code=status.HTTP_201_CREATED)
async def create_status_check(check_in: StatusCheckCreate, db: Database) -> StatusCheck:
    check = StatusCheck(client_name=check_in.client_name)
    await db.status_checks.insert_one(check.model_dump())
    return check


@status_checks.get("", response_model=list[StatusCheck])
async def list_status_checks(db: Database, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    return await db.status_checks.find({}, {"_id": 0}).sort("timestamp", DESCENDING).to_list(length=limit)


# app/api/v1/endpoints/health.py
health = APIRouter(tags=["health"])


@health.get("/health", response_model=HealthResponse)
async def health_check(db: Database) -> JSONResponse | HealthResponse:
    try:
        await db.command("ping")
    except PyMongoError:
        logger.warning("Database ping failed")
        body = HealthResponse(status="degraded", database="unavailable", version=settings.version)
        return JSONResponse(body.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return HealthResponse(status="ok", database="ok", version=settings.version)


# app/api/v1/api.py and app/main.py
api_router = APIRouter()
for router in (auth, prompts, status_checks, health):
    api_router.include_router(router)

app = FastAPI(title=settings.project_name, version=settings.version, openapi_url="/api/openapi.json")
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.cors_allow_origins,
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)
app.include_router(api_router, prefix="/api")


@app.exception_handler(RequestValidationError)
async def validation_exception_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


@app.exception_handler(Exception)
async def unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


lambda_handler = Mangum(app, lifespan="off")
